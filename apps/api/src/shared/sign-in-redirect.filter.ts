import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { seeOther } from './pages';
import { SignInRequired } from './sign-in-required';

/** SignInRequired -> 303 to the login page (any other error goes on to the usual error page). */
@Catch(SignInRequired)
export class SignInRedirectFilter implements ExceptionFilter {
  catch(exception: SignInRequired, host: ArgumentsHost) {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    seeOther(reply, exception.location);
    reply.send();
  }
}
