import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GlobalIdService } from './global-id';
import { AccountsService } from './accounts/accounts.service';
import { UserEntity } from './accounts/entities/user.entity';
import { UserEmailEntity } from './accounts/entities/user-email.entity';

/** Users, linked emails, passwords and Global IDs. */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, UserEmailEntity])],
  providers: [GlobalIdService, AccountsService],
  exports: [GlobalIdService, AccountsService],
})
export class IdentityModule {}
