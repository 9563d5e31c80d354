export * from './client-ip';
export * from './rate-limit.service';
export * from './sliding-window';
export * from './password-policy';
