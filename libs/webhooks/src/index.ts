export * from './events';
export * from './signing';
export * from './safe-post';
export * from './outbox.service';
export * from './delivery.service';
export * from './relay.service';
export * from './deliveries.service';
export * from './webhooks.module';
