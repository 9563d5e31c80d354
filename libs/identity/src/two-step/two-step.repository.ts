import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TwoStepTablesRepository } from '@app/common';

/** The SQL of `user_totp` and `user_recovery_codes` (end users' two-step sign-in; the rules are TwoStepCore's). */
@Injectable()
export class TwoStepRepository extends TwoStepTablesRepository {
  constructor(db: DataSource) {
    super(db, { totp: 'user_totp', recoveryCodes: 'user_recovery_codes', subject: 'user_id' });
  }
}
