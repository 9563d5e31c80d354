import { Controller, Get, Header, Req } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { AppError, isLoopbackIp } from '@app/common';
import { MailerService } from '@app/identity';
import { devMailboxPage } from './account-center.view';

/**
 * `/dev/mailbox`: the mail LoginSign would have sent while no SMTP_URL is
 * configured (development and tests), newest first, and only to this
 * machine: 404 in production and to any other address (the socket's, and the
 * client IP TRUST_PROXY resolves, must both be loopback).
 */
@Controller('dev')
export class DevMailboxController {
  constructor(private readonly mailer: MailerService) {}

  @Get('mailbox')
  @Header('cache-control', 'no-store')
  @Header('content-type', 'text/html; charset=utf-8')
  async mailbox(@Req() request: FastifyRequest) {
    const local = isLoopbackIp(request.socket.remoteAddress) && isLoopbackIp(request.ip);
    if (!this.mailer.devMailboxEnabled || !local) throw new AppError('not_found', 'No such page.');
    return devMailboxPage(await this.mailer.devMailbox());
  }
}
