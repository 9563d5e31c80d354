import { passwordResetControllers } from '../shared/password-reset.controllers';
import { DeveloperPasswordResetService } from './developer-password-reset.service';
import { PortalWriteGuard } from './portal-write.guard';

const resets = passwordResetControllers({
  service: DeveloperPasswordResetService,
  guard: PortalWriteGuard,
  apiPath: 'api/developer/password',
  pagesPath: 'developer/password',
  pages: { base: '/developer', product: 'Developer Portal' },
});

/** Forgotten password of developer accounts, JSON (`/api/developer/password/*`): the same answer for every address. */
export class DeveloperPasswordResetApiController extends resets.ResetApiController {}

/** Forgotten password of developer accounts, pages: `/developer/password/forgot` and the mailed `/developer/password/reset?token=..`. */
export class DeveloperPasswordResetPagesController extends resets.ResetPagesController {}
