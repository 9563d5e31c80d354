import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeveloperEntity } from './entities/developer.entity';
import { ApplicationEntity } from './entities/application.entity';
import { DevelopersService } from './developers.service';
import { ApplicationsService } from './applications.service';

/** Developer accounts and their applications (OAuth clients). Needs ConfigModule, DatabaseModule and SessionModule. */
@Module({
  imports: [TypeOrmModule.forFeature([DeveloperEntity, ApplicationEntity])],
  providers: [DevelopersService, ApplicationsService],
  exports: [DevelopersService, ApplicationsService],
})
export class DeveloperModule {}
