export * from './client-ip';
export * from './rate-limit.service';
export * from './password-policy';
