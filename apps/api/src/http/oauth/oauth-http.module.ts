import { Module } from '@nestjs/common';
import { OAuthModule, OidcModule } from '@app/oauth';
import { CsrfService } from '../common/csrf';
import { AuthorizeController } from './authorize.controller';
import { TokenController } from './token.controller';
import { UserController } from './user.controller';

/** Sign in with LoginSign: authorize + consent, token, current user. */
@Module({
  imports: [OAuthModule, OidcModule],
  controllers: [AuthorizeController, TokenController, UserController],
  providers: [CsrfService],
})
export class OAuthHttpModule {}
