export * from './identity.module';
export * from './global-id';
export * from './accounts/accounts.service';
export * from './accounts/limits';
export * from './accounts/entities/user.entity';
export * from './accounts/entities/user-email.entity';
export * from './accounts/dto/account.dto';
export * from './accounts/password';
