export * from './relay.constants';
export * from './addresses';
export * from './message';
export * from './relay-messages.repository';
export * from './relay-routing';
export * from './relay-intake';
export * from './relay-delivery';
export * from './relay.module';
