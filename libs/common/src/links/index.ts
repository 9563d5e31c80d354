export * from './sliding-window';
export * from './reset-links.service';
