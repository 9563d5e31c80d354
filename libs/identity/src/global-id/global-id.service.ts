import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError, retryOnDeadlock } from '@app/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { formatGlobalId, GLOBAL_ID_SPACE, GlobalIdPermutation } from './global-id-permutation';
import { GlobalIdSequenceRepository, SequencePartition } from './global-id-sequence.repository';

/**
 * Hands out Global User IDs (`^[A-Z]{2}[0-9]{4}$`), unique over every API
 * process sharing the database.
 *
 * Sequence numbers are reserved in blocks from the partitions of
 * `global_id_sequence` (disjoint ranges of the space, one row each): a
 * process takes a block from a random partition in one UPDATE, so concurrent
 * processes rarely meet on a row and never wait on a SELECT ... FOR UPDATE.
 * Blocks are served from memory and mapped through the keyed permutation.
 * Numbers of a block that a process has not used when it exits are skipped
 * forever: ids are never reused, only sometimes skipped (at most one block
 * per process restart).
 *
 * Usable without Nest: `new GlobalIdService(dataSource, config)`.
 */
@Injectable()
export class GlobalIdService {
  private readonly permutation: GlobalIdPermutation;
  private readonly sequence: GlobalIdSequenceRepository;
  private readonly blockSize: number;
  /** The reserved block not handed out yet: [next, end). */
  private next = 0;
  private end = 0;
  /** One block fetch at a time per process; concurrent callers wait on it. */
  private fetching: Promise<void> | null = null;
  /** Once the table says the space is used up it stays so: skip the database. */
  private exhausted = false;
  /** The partitions not known to be used up (read once). */
  private open: SequencePartition[] | null = null;

  constructor(dataSource: DataSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.permutation = new GlobalIdPermutation(config.secrets.globalIdKey);
    this.sequence = new GlobalIdSequenceRepository(dataSource);
    this.blockSize = Math.max(1, config.globalIdBlockSize);
  }

  async allocate(): Promise<string> {
    // A loop: the block a caller waited for may be drained by earlier waiters.
    while (this.next >= this.end) {
      if (this.exhausted) throw outOfIds();
      this.fetching ??= this.fetchBlock().finally(() => {
        this.fetching = null;
      });
      await this.fetching;
    }
    return formatGlobalId(this.permutation.permute(this.next++));
  }

  private async fetchBlock(): Promise<void> {
    const open = (this.open ??= await this.sequence.partitions());
    while (open.length > 0) {
      const pick = Math.floor(Math.random() * open.length);
      const partition = open[pick];
      // One row, one statement: a deadlock here is a multi-writer cluster's certification conflict.
      const start = await retryOnDeadlock(() => this.sequence.takeBlock(partition.id, this.blockSize), { orLockWaitTimeout: true });
      if (start === null) {
        open.splice(pick, 1);
        continue;
      }
      this.next = start;
      this.end = Math.min(start + this.blockSize, partition.end, GLOBAL_ID_SPACE);
      return;
    }
    this.exhausted = true;
    throw outOfIds();
  }
}

function outOfIds(): AppError {
  return new AppError('temporarily_unavailable', 'LoginSign has run out of Global User IDs; sign-up is closed.');
}
