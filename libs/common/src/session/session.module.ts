import { Global, Module } from '@nestjs/common';
import { SessionService } from './session.service';
import { LoginThrottleService } from './login-throttle.service';
import { RateLimitService } from '../limits/rate-limit.service';

@Global()
@Module({ providers: [SessionService, LoginThrottleService, RateLimitService], exports: [SessionService, LoginThrottleService, RateLimitService] })
export class SessionModule {}
