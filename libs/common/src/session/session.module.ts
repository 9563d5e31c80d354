import { Global, Module } from '@nestjs/common';
import { SessionService } from './session.service';
import { LoginThrottleService } from './login-throttle.service';
import { ResetLinksService } from '../links/reset-links.service';

@Global()
@Module({ providers: [SessionService, LoginThrottleService, ResetLinksService], exports: [SessionService, LoginThrottleService, ResetLinksService] })
export class SessionModule {}
