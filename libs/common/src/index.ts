export * from './errors';
export * from './crypto';
export * from './time';
export * from './email';
export * from './redis/redis.module';
export * from './session';
export * from './queue/queue.module';
export * from './logger';
