import { Global, Module } from '@nestjs/common';
import { SessionService } from './session.service';
import { LoginThrottleService } from './login-throttle.service';

@Global()
@Module({ providers: [SessionService, LoginThrottleService], exports: [SessionService, LoginThrottleService] })
export class SessionModule {}
