export * from './options';
export * from './migrate';
export * from './database.module';
export * from './writability.repository';
