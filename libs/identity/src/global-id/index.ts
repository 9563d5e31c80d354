export * from './global-id-permutation';
export * from './global-id.service';
