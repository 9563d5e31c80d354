export * from './registry';
export * from './count';
export * from './server';
export * from './metrics.module';
