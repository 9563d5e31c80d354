import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { dataSourceOptions } from './options';

/** How long a replica that failed is left alone before it is tried again. */
const RETRY_AFTER_MS = 5000;

interface Replica {
  url: string;
  /** Connected (or connecting) pool; dropped when it fails, so the next try reconnects. */
  ready: Promise<DataSource> | null;
  downUntil: number;
}

/**
 * The read replicas of DATABASE_REPLICA_URLS, for the few reads that tolerate
 * lag (the developer's user list and totals). A repository passes the read
 * as a function of a DataSource: it runs on the next replica in turn, or on
 * the primary when there is none or the replica fails (down, not yet
 * migrated, refusing): a replica outage costs latency, never an error.
 * Everything else reads the primary by injecting DataSource directly.
 */
@Injectable()
export class ReadReplicas implements OnApplicationShutdown {
  private readonly logger = new Logger('read-replicas');
  private readonly replicas: Replica[];
  private next = 0;

  constructor(
    private readonly primary: DataSource,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'databaseReplicaUrls'>,
  ) {
    this.replicas = config.databaseReplicaUrls.map((url) => ({ url, ready: null, downUntil: 0 }));
  }

  async read<T>(query: (db: DataSource) => Promise<T>): Promise<T> {
    const replica = this.pick();
    if (!replica) return query(this.primary);
    try {
      return await query(await this.connect(replica));
    } catch (error) {
      replica.downUntil = Date.now() + RETRY_AFTER_MS;
      const failed = replica.ready;
      replica.ready = null;
      void failed?.then((db) => db.destroy()).catch(() => undefined);
      this.logger.warn(`replica ${new URL(replica.url).host} failed (${(error as Error).message}); reading the primary for ${RETRY_AFTER_MS / 1000} s`);
      return query(this.primary);
    }
  }

  /** The next replica in turn that is not resting after a failure. */
  private pick(): Replica | null {
    const now = Date.now();
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[this.next++ % this.replicas.length];
      if (replica.downUntil <= now) return replica;
    }
    return null;
  }

  private connect(replica: Replica): Promise<DataSource> {
    const options = dataSourceOptions({ databaseUrl: replica.url });
    replica.ready ??= new DataSource({
      ...options,
      migrations: [],
      // A replica that does not answer is given up quickly: the primary is there.
      extra: { ...(options.extra as Record<string, unknown>), connectionLimit: 10, connectTimeout: 2000 },
    }).initialize();
    return replica.ready;
  }

  async onApplicationShutdown(): Promise<void> {
    const open = this.replicas.flatMap((r) => (r.ready ? [r.ready.then((db) => db.destroy()).catch(() => undefined)] : []));
    await Promise.all(open);
  }
}
