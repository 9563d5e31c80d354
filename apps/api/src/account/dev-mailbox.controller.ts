import { Controller, Get, Header } from '@nestjs/common';
import { AppError } from '@app/common';
import { MailerService } from '@app/identity';
import { devMailboxPage } from './account-center.view';

/**
 * `/dev/mailbox`: the mail LoginSign would have sent while no SMTP_URL is
 * configured (development and tests), newest first. 404 in production.
 */
@Controller('dev')
export class DevMailboxController {
  constructor(private readonly mailer: MailerService) {}

  @Get('mailbox')
  @Header('cache-control', 'no-store')
  @Header('content-type', 'text/html; charset=utf-8')
  async mailbox() {
    if (!this.mailer.devMailboxEnabled) throw new AppError('not_found', 'No such page.');
    return devMailboxPage(await this.mailer.devMailbox());
  }
}
