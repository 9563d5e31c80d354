export * from './permutation';
export * from './global-id.service';
