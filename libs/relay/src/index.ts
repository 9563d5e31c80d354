export * from './relay.constants';
export * from './addresses';
export * from './message';
export * from './routing.service';
export * from './intake.service';
export * from './delivery.service';
export * from './relay.module';
