import { Injectable } from '@nestjs/common';
import { ApplicationsRepository } from './applications.repository';

/** How long a process trusts its copy; changes made in another process show up within this time. */
export const SPA_ORIGINS_TTL_MS = 30_000;

/**
 * The origins (scheme://host:port) of every `spa` application's redirect
 * URIs: the browsers allowed to call the token endpoint, userinfo and
 * /api/user cross-origin. Cached per process so a CORS check costs no query;
 * changes through ApplicationsService in this process invalidate it at once.
 */
@Injectable()
export class SpaOriginsService {
  private cached: { origins: ReadonlySet<string>; loadedAt: number } | null = null;
  private loading: Promise<ReadonlySet<string>> | null = null;
  /** Bumped by every invalidation, so a query that started before it is not cached. */
  private generation = 0;

  constructor(private readonly apps: ApplicationsRepository) {}

  async allows(origin: string): Promise<boolean> {
    return (await this.origins()).has(origin);
  }

  invalidate(): void {
    this.generation += 1;
    this.cached = null;
    this.loading = null;
  }

  private origins(): Promise<ReadonlySet<string>> {
    if (this.cached && Date.now() - this.cached.loadedAt < SPA_ORIGINS_TTL_MS) return Promise.resolve(this.cached.origins);
    // Concurrent misses share one query.
    this.loading ??= this.load(this.generation);
    return this.loading;
  }

  private async load(generation: number): Promise<ReadonlySet<string>> {
    try {
      const origins = new Set((await this.apps.spaRedirectUris()).map((uri) => new URL(uri).origin));
      if (generation === this.generation) this.cached = { origins, loadedAt: Date.now() };
      return origins;
    } finally {
      if (generation === this.generation) this.loading = null;
    }
  }
}
