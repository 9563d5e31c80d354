export * from './totp';
export * from './two-step-core';
export * from './pending-second-step.service';
export * from './two-step.repository';
