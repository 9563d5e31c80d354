import { Controller, Get, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
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
  async mailbox(@Res() reply: FastifyReply) {
    if (!this.mailer.devMailboxEnabled) throw new AppError('not_found', 'No such page.');
    const mails = await this.mailer.devMailbox();
    reply.status(200).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(devMailboxPage(mails));
  }
}
