export * from './connections.module';
export * from './connections.repository';
export * from './connections.service';
export * from './connection-state.service';
export * from './application-users.service';
export * from './account-center.service';
export * from './session-counts';
export * from './session-counts.repository';
