export * from './session.service';
export * from './session.module';
export * from './login-throttle.service';
