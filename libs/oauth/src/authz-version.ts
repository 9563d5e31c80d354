import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthzVersionRepository } from './authz-version.repository';

/**
 * Reads `authz_version` (moved by triggers on every change that can affect a
 * token lookup) with coalescing: callers share one query, but a caller never
 * joins a query that was already in flight when it arrived. So any change
 * committed before a request arrived is seen by that request, while
 * concurrent requests cost one round trip between them.
 */
@Injectable()
export class AuthzVersion {
  private running: Promise<number> | null = null;
  private queued: Promise<number> | null = null;

  private readonly versions: AuthzVersionRepository;

  constructor(db: DataSource) {
    this.versions = new AuthzVersionRepository(db);
  }

  current(): Promise<number> {
    if (!this.running) return this.start();
    if (!this.queued) {
      const next = () => {
        this.queued = null;
        return this.start();
      };
      this.queued = this.running.then(next, next);
    }
    return this.queued;
  }

  private start(): Promise<number> {
    const read: Promise<number> = this.versions.read();
    this.running = read;
    const clear = () => {
      if (this.running === read) this.running = null;
    };
    read.then(clear, clear);
    return read;
  }
}
