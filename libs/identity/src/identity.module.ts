import { Module } from '@nestjs/common';
import { PasswordHasher } from '@app/common';
import { GlobalIdService } from './global-id';
import { AccountsService } from './accounts/accounts.service';
import { LinkedEmailsService } from './accounts/linked-emails.service';
import { MailerService } from './mail/mailer.service';
import { EmailVerificationsRepository } from './accounts/email-verifications.repository';
import { UserEmailsRepository } from './accounts/user-emails.repository';
import { UsersRepository } from './accounts/users.repository';
import { AccountNoticesService } from './notices/account-notices.service';
import { PasswordResetService } from './reset/password-reset.service';

/** Users, linked emails, passwords and Global IDs. */
@Module({
  providers: [
    PasswordHasher,
    UsersRepository,
    UserEmailsRepository,
    EmailVerificationsRepository,
    GlobalIdService,
    AccountsService,
    LinkedEmailsService,
    MailerService,
    AccountNoticesService,
    PasswordResetService,
  ],
  exports: [
    UsersRepository,
    UserEmailsRepository,
    EmailVerificationsRepository,
    GlobalIdService,
    AccountsService,
    LinkedEmailsService,
    MailerService,
    AccountNoticesService,
    PasswordResetService,
  ],
})
export class IdentityModule {}
