import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SecondFactor, TotpSetup, TwoStepCore } from '@app/common';
import { DeveloperTwoStepRepository } from './developer-two-step.repository';

/** Two-step sign-in of developer accounts: the same rules as end users' (TwoStepCore), in the developers' tables. */
@Injectable()
export class DeveloperTwoStepService {
  private readonly core: TwoStepCore;

  constructor(repo: DeveloperTwoStepRepository, @Inject(APP_CONFIG) config: AppConfig) {
    this.core = new TwoStepCore(repo, config.secrets.dataEncryptionKey);
  }

  isEnabled(developerId: number): Promise<boolean> {
    return this.core.isEnabled(developerId);
  }

  unusedRecoveryCodes(developerId: number): Promise<number> {
    return this.core.unusedRecoveryCodes(developerId);
  }

  beginSetup(developerId: number, email: string): Promise<TotpSetup> {
    return this.core.beginSetup(developerId, email);
  }

  pendingSetup(developerId: number, email: string): Promise<TotpSetup | null> {
    return this.core.pendingSetup(developerId, email);
  }

  confirmSetup(developerId: number, code: unknown): Promise<string[]> {
    return this.core.confirmSetup(developerId, code);
  }

  verifyCode(developerId: number, code: unknown): Promise<SecondFactor | null> {
    return this.core.verifyCode(developerId, code);
  }

  disable(developerId: number, code: unknown): Promise<void> {
    return this.core.disable(developerId, code);
  }
}
