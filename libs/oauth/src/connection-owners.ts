import { ByteBudgetLru } from '@app/common';

interface Owner {
  userId: string;
  applicationId: string;
}

/** ~100,000 connections' owners per process. */
const OWNERS_BUDGET_BYTES = 16 * 1024 * 1024;

/** Whose a connection is (user and application): facts that never change, kept per process (least recently used go first). */
export class ConnectionOwners {
  private readonly owners = new ByteBudgetLru<string, Owner>(OWNERS_BUDGET_BYTES, (connectionId, o) => 96 + 2 * (connectionId.length + o.userId.length + o.applicationId.length));

  get(connectionId: string): Owner | undefined {
    return this.owners.get(connectionId);
  }

  set(connectionId: string, userId: number | string, applicationId: string): void {
    this.owners.set(connectionId, { userId: String(userId), applicationId });
  }
}
