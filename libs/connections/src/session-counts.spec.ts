import { randomId } from '@app/common';
import { batchKey, pendingKey, SESSION_COUNT_PARTITIONS, sessionCountPartition, withPending } from './session-counts';

describe('session counts', () => {
  it('puts a connection in one stable partition of 16, spread over all of them', () => {
    const ids = Array.from({ length: 4000 }, () => randomId('c'));
    const perPartition = new Array<number>(SESSION_COUNT_PARTITIONS).fill(0);
    for (const id of ids) {
      const p = sessionCountPartition(id);
      expect(Number.isInteger(p) && p >= 0 && p < SESSION_COUNT_PARTITIONS).toBe(true);
      expect(sessionCountPartition(id)).toBe(p);
      perPartition[p]++;
    }
    // 250 expected per partition.
    expect(Math.min(...perPartition)).toBeGreaterThan(150);
    expect(Math.max(...perPartition)).toBeLessThan(350);
  });

  it('names both keys of a partition with one hash tag (one Redis Cluster slot)', () => {
    for (let p = 0; p < SESSION_COUNT_PARTITIONS; p++) {
      const tag = (key: string) => /\{([^}]*)\}/.exec(key)![1];
      expect(tag(pendingKey(p))).toBe(`sc:${p}`);
      expect(tag(batchKey(p))).toBe(tag(pendingKey(p)));
    }
  });

  it('adds pending sessions to the MySQL figures; the later time wins', () => {
    const mysql = { sessions: 3, lastAt: new Date('2026-01-01T10:00:00Z') };
    expect(withPending(mysql, undefined)).toEqual(mysql);
    expect(withPending(mysql, { sessions: 2, lastAt: new Date('2026-01-01T11:00:00Z') })).toEqual({ sessions: 5, lastAt: new Date('2026-01-01T11:00:00Z') });
    expect(withPending(mysql, { sessions: 1, lastAt: new Date('2026-01-01T09:00:00Z') })).toEqual({ sessions: 4, lastAt: mysql.lastAt });
    expect(withPending({ sessions: 0, lastAt: null }, { sessions: 1, lastAt: new Date(5) })).toEqual({ sessions: 1, lastAt: new Date(5) });
  });
});
