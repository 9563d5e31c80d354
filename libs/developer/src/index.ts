export * from './developer.module';
export * from './developers.service';
export * from './applications.service';
export * from './application-rules';
export * from './dto/developer.dto';
export * from './dto/application.dto';
export * from './developers.repository';
export * from './applications.repository';
