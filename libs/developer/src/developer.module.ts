import { Module } from '@nestjs/common';
import { ApplicationsRepository } from './applications.repository';
import { DevelopersRepository } from './developers.repository';
import { DevelopersService } from './developers.service';
import { ApplicationsService } from './applications.service';
import { DeveloperTwoStepRepository } from './developer-two-step.repository';
import { DeveloperTwoStepService } from './developer-two-step.service';

/** Developer accounts and their applications (OAuth clients). Needs ConfigModule, DatabaseModule and SessionModule. */
@Module({
  providers: [DevelopersRepository, ApplicationsRepository, DevelopersService, ApplicationsService, DeveloperTwoStepRepository, DeveloperTwoStepService],
  exports: [DevelopersRepository, ApplicationsRepository, DevelopersService, ApplicationsService, DeveloperTwoStepRepository, DeveloperTwoStepService],
})
export class DeveloperModule {}
