import { Global, Module } from '@nestjs/common';
import { SessionService } from './session.service';
import { LoginThrottleService } from './login-throttle.service';
import { RateLimitService } from '../limits/rate-limit.service';
import { ResetLinksService } from '../links/reset-links.service';

@Global()
@Module({
  providers: [SessionService, LoginThrottleService, RateLimitService, ResetLinksService],
  exports: [SessionService, LoginThrottleService, RateLimitService, ResetLinksService],
})
export class SessionModule {}
