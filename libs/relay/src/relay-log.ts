import { Injectable, Module } from '@nestjs/common';
import { isoUtc, randomId } from '@app/common';
import { RelayMessagesRepository } from './relay-messages.repository';

/** One line of an application's relay log, as the portal shows it. */
export interface RelayLogEntry {
  id: string;
  /** received (queued), forwarded, dropped (muted), bounced (the next server refused or we gave up), refused. */
  outcome: 'received' | 'forwarded' | 'dropped' | 'bounced' | 'refused';
  kind: string;
  from: string;
  to: string;
  bytes: number;
  reason: string | null;
  at: string | null;
}

const OUTCOME: Record<string, RelayLogEntry['outcome']> = { queued: 'received', delivered: 'forwarded', dropped: 'dropped', failed: 'bounced', refused: 'refused' };

/** The relay log of an application (received, forwarded, refused with the reason, bounced). */
@Injectable()
export class RelayLogService {
  constructor(private readonly messages: RelayMessagesRepository) {}

  async recent(applicationId: string, limit = 100): Promise<RelayLogEntry[]> {
    const rows = await this.messages.logOf(applicationId, limit);
    return rows.map((r) => ({
      id: r.id,
      outcome: OUTCOME[r.status] ?? 'received',
      kind: r.kind,
      from: r.mail_from,
      to: r.rcpt_to,
      bytes: Number(r.size_bytes),
      reason: r.last_error,
      at: isoUtc(r.created_at),
    }));
  }

  /** Records a refusal of mail for a known application (the reason the sender was given). */
  async refused(applicationId: string, connectionId: string | null, mailFrom: string, rcptTo: string, reason: string): Promise<void> {
    await this.messages.insertRefusal({ id: randomId('rm'), applicationId, connectionId, mailFrom, rcptTo, reason });
  }
}

/** The relay log for the API (no queue). */
@Module({ providers: [RelayMessagesRepository, RelayLogService], exports: [RelayLogService] })
export class RelayLogModule {}
