import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Whether the MySQL server this process writes to takes writes (readiness). */
@Injectable()
export class WritabilityRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** False on a read-only server: a demoted primary or a replica the pool was pointed at. */
  async writable(): Promise<boolean> {
    const [row] = await this.dataSource.query<{ readOnly: number | string }[]>('SELECT @@global.read_only AS readOnly');
    return Number(row.readOnly) === 0;
  }
}
