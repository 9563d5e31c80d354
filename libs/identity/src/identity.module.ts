import { Module } from '@nestjs/common';
import { AccessSignalsModule, PasswordHasher } from '@app/common';
import { GlobalIdService } from './global-id';
import { AccountsService } from './accounts/accounts.service';
import { LinkedEmailsService } from './accounts/linked-emails.service';
import { MailerService } from './mail/mailer.service';
import { EmailVerificationsRepository } from './accounts/email-verifications.repository';
import { UserEmailsRepository } from './accounts/user-emails.repository';
import { UsersRepository } from './accounts/users.repository';
import { AccountNoticesService } from './notices/account-notices.service';
import { PasswordResetService } from './reset/password-reset.service';
import { TwoStepRepository } from './two-step/two-step.repository';
import { TwoStepService } from './two-step/two-step.service';
import { PasskeysRepository } from './passkeys/passkeys.repository';
import { PasskeysService } from './passkeys/passkeys.service';

/** What the module provides and exports (PasswordHasher stays its own). */
const SHARED = [
  UsersRepository,
  UserEmailsRepository,
  EmailVerificationsRepository,
  GlobalIdService,
  AccountsService,
  LinkedEmailsService,
  MailerService,
  AccountNoticesService,
  PasswordResetService,
  TwoStepRepository,
  TwoStepService,
  PasskeysRepository,
  PasskeysService,
];

/** Users, linked emails, passwords, Global IDs, two-step sign-in and passkeys. */
@Module({
  imports: [AccessSignalsModule],
  providers: [PasswordHasher, ...SHARED],
  exports: SHARED,
})
export class IdentityModule {}
