import { Module } from '@nestjs/common';
import { PasswordHasher } from '@app/common';
import { ApplicationsRepository } from './applications.repository';
import { DevelopersRepository } from './developers.repository';
import { DevelopersService } from './developers.service';
import { ApplicationsService } from './applications.service';

/** Developer accounts and their applications (OAuth clients). Needs ConfigModule, DatabaseModule and SessionModule. */
@Module({
  providers: [PasswordHasher, DevelopersRepository, ApplicationsRepository, DevelopersService, ApplicationsService],
  exports: [DevelopersRepository, ApplicationsRepository, DevelopersService, ApplicationsService],
})
export class DeveloperModule {}
