import { PasswordResetService } from '@app/identity';
import { passwordResetControllers } from '../shared/password-reset.controllers';
import { SameSiteGuard } from './same-site.guard';

const resets = passwordResetControllers({
  service: PasswordResetService,
  guard: SameSiteGuard,
  apiPath: 'api/account/password',
  pagesPath: 'password',
  pages: { base: '', product: 'LoginSign' },
});

/** Forgotten password of end users, JSON (`/api/account/password/*`): the same answer for every address. */
export class PasswordResetApiController extends resets.ResetApiController {}

/** Forgotten password of end users, pages: `/password/forgot` and the mailed `/password/reset?token=..`. */
export class PasswordResetPagesController extends resets.ResetPagesController {}
