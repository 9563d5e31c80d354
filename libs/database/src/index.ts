export * from './options';
export * from './migrate';
export * from './database.module';
export * from './read-replicas';
export * from './writability.repository';
