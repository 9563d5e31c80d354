import { Module } from '@nestjs/common';
import { AccessSignalsModule, PasswordHasher } from '@app/common';
import { ApplicationsRepository } from './applications.repository';
import { DevelopersRepository } from './developers.repository';
import { DevelopersService } from './developers.service';
import { ApplicationsService } from './applications.service';
import { SpaOriginsService } from './spa-origins.service';
import { ClientAuthCache } from './client-auth-cache';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { DeveloperTwoStepRepository } from './developer-two-step.repository';
import { DeveloperTwoStepService } from './developer-two-step.service';

/** Developer accounts, their applications (OAuth clients) and API keys. Needs ConfigModule, DatabaseModule and SessionModule. */
@Module({
  imports: [AccessSignalsModule],
  providers: [
    PasswordHasher,
    DevelopersRepository,
    ApplicationsRepository,
    DevelopersService,
    ApplicationsService,
    SpaOriginsService,
    ClientAuthCache,
    ApiKeysRepository,
    ApiKeysService,
    DeveloperTwoStepRepository,
    DeveloperTwoStepService,
  ],
  exports: [
    DevelopersRepository,
    ApplicationsRepository,
    DevelopersService,
    ApplicationsService,
    SpaOriginsService,
    ApiKeysService,
    DeveloperTwoStepRepository,
    DeveloperTwoStepService,
  ],
})
export class DeveloperModule {}
