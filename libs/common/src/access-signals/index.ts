export * from './access-change-signals';
export * from './access-signals.module';
export * from './signalled-cache';
