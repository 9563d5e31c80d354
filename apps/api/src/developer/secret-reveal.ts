import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { decrypt, encrypt, REDIS, Session, sha256Hex } from '@app/common';
import { RevealedSecrets } from './portal.view';

/** How long a just-issued secret waits for the page that shows it. */
const REVEAL_TTL_SECONDS = 600;

/**
 * Secrets to show once, after the POST that created them and its 303: kept
 * server-side (never in a URL), encrypted, bound to the developer's session
 * and the application, and deleted by the read that shows them (GETDEL).
 */
@Injectable()
export class SecretReveal {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private key(session: Session, appId: string) {
    return `portal-reveal:${sha256Hex(session.id)}:${appId}`;
  }

  async put(session: Session, appId: string, secrets: RevealedSecrets): Promise<void> {
    await this.redis.set(this.key(session, appId), encrypt(this.config.secrets.dataEncryptionKey, JSON.stringify(secrets)), 'EX', REVEAL_TTL_SECONDS);
  }

  async take(session: Session, appId: string): Promise<RevealedSecrets | null> {
    const sealed = await this.redis.getdel(this.key(session, appId));
    return sealed ? (JSON.parse(decrypt(this.config.secrets.dataEncryptionKey, sealed)) as RevealedSecrets) : null;
  }
}
