import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TwoStepTablesRepository } from '@app/common';

/** The SQL of `developer_totp` and `developer_recovery_codes` (developers' two-step sign-in; the rules are TwoStepCore's). */
@Injectable()
export class DeveloperTwoStepRepository extends TwoStepTablesRepository {
  constructor(db: DataSource) {
    super(db, { totp: 'developer_totp', recoveryCodes: 'developer_recovery_codes', subject: 'developer_id' });
  }
}
