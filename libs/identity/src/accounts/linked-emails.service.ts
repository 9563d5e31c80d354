import { Inject, Injectable } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, normalizeEmail, randomToken, sha256 } from '@app/common';
import { MailerService } from '../mail/mailer.service';
import { LIMITS } from './limits';

/** A verification link works for 24 hours, once. */
export const EMAIL_LINK_TTL_SECONDS = 24 * 3600;
/** Links a user may request per 24 hours (each one is a mail we send). */
export const EMAIL_LINKS_PER_DAY = 10;

export interface PendingEmail {
  email: string;
  expiresAt: Date;
}

export interface LinkedAddress {
  email: string;
  isPrimary: boolean;
}

const invalidLink = () => new AppError('invalid_request', 'This link is invalid, has expired or was already used. Add the address again to get a new one.');

/** A user_emails row as these queries select it (MySQL booleans are 0/1). */
type UserEmailRow = { id: number; email: string; is_primary: number; verified: number };

/**
 * Linked addresses beyond the sign-up one: a user asks to add an address,
 * we mail a link (32 random bytes, stored as SHA-256, single use, 24 h),
 * following it links the address. Plus removal and the primary choice.
 */
@Injectable()
export class LinkedEmailsService {
  constructor(
    private readonly db: DataSource,
    private readonly mailer: MailerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The user's linked addresses (primary first) and the ones waiting for their link. */
  async list(userId: number): Promise<{ linked: LinkedAddress[]; pending: PendingEmail[] }> {
    const [linked, pending] = await Promise.all([
      this.db.query<{ email: string; is_primary: number }[]>(`SELECT email, is_primary FROM user_emails WHERE user_id = ? AND (verified = 1 OR is_primary = 1) ORDER BY is_primary DESC, id`, [userId]),
      this.db.query<{ email: string; expires_at: Date }[]>(
        `SELECT email, MAX(expires_at) AS expires_at FROM email_verifications
         WHERE user_id = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3) GROUP BY email ORDER BY MIN(id)`,
        [userId],
      ),
    ]);
    return {
      linked: linked.map((r) => ({ email: r.email, isPrimary: !!r.is_primary })),
      pending: pending.map((r) => ({ email: r.email, expiresAt: r.expires_at })),
    };
  }

  /**
   * Mails a verification link for `rawEmail`. The address is not linked (nor
   * reserved) until the link is followed. A new request for the same address
   * replaces the earlier link.
   */
  async requestLink(userId: number, rawEmail: string): Promise<string> {
    const email = normalizeEmail(String(rawEmail ?? ''));
    if (email.length > LIMITS.emailMax || !isEmail(email)) throw new AppError('invalid_request', 'Enter a valid email address.');
    const [owner] = await this.db.query<{ user_id: number }[]>(`SELECT user_id FROM user_emails WHERE email = ? AND (verified = 1 OR is_primary = 1)`, [email]);
    if (owner) {
      throw new AppError('conflict', Number(owner.user_id) === userId ? 'This address is already linked to your account.' : 'This address is linked to another LoginSign account.');
    }
    const [{ n }] = await this.db.query<{ n: number | string }[]>(`SELECT COUNT(*) AS n FROM email_verifications WHERE user_id = ? AND created_at > UTC_TIMESTAMP(3) - INTERVAL 1 DAY`, [userId]);
    if (Number(n) >= EMAIL_LINKS_PER_DAY) throw new AppError('rate_limited', 'Too many verification emails today. Try again tomorrow.');
    const token = randomToken(32);
    await this.db.transaction(async (m) => {
      // The previous link for this address stops working (expired, not deleted: it still counts towards the daily limit).
      await this.expirePending(m, userId, email);
      await m.query(
        `INSERT INTO email_verifications (user_id, email, token_hash, expires_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)`,
        [userId, email, sha256(token), EMAIL_LINK_TTL_SECONDS],
      );
    });
    const link = `${this.config.publicUrl}/account/emails/verify?${new URLSearchParams({ token })}`;
    await this.mailer.send({
      to: email,
      subject: 'Confirm your email address for LoginSign',
      text: `Someone (hopefully you) asked to link ${email} to a LoginSign account.\n\nTo confirm, open this link within 24 hours:\n\n${link}\n\nIf this was not you, ignore this email: nothing changes.\n`,
    });
    return email;
  }

  /** The address a live link would verify (for its confirmation page); null when the link is unusable. */
  async peek(token: unknown): Promise<string | null> {
    if (typeof token !== 'string' || token.length > 100) return null;
    const [row] = await this.db.query<{ email: string }[]>(
      `SELECT email FROM email_verifications WHERE token_hash = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)`,
      [sha256(token)],
    );
    return row?.email ?? null;
  }

  /** Follows a link: single use (an atomic update), unexpired, then the address is linked. */
  async verify(token: unknown): Promise<{ userId: number; email: string }> {
    if (typeof token !== 'string' || token.length > 100) throw invalidLink();
    return this.db.transaction(async (m) => {
      const [row] = await m.query<{ id: number; user_id: number; email: string }[]>(
        `SELECT id, user_id, email FROM email_verifications WHERE token_hash = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3) FOR UPDATE`,
        [sha256(token)],
      );
      if (!row) throw invalidLink();
      const taken = await m.query<{ affectedRows: number }>(`UPDATE email_verifications SET used_at = UTC_TIMESTAMP(3) WHERE id = ? AND used_at IS NULL`, [row.id]);
      if (taken.affectedRows !== 1) throw invalidLink();
      const userId = Number(row.user_id);
      const email = row.email;
      const [existing] = await m.query<{ id: number; user_id: number; verified: number }[]>(`SELECT id, user_id, verified FROM user_emails WHERE email = ? FOR UPDATE`, [email]);
      if (existing && Number(existing.user_id) !== userId) {
        throw new AppError('conflict', 'This address was linked to another LoginSign account in the meantime.');
      }
      if (existing) await m.query(`UPDATE user_emails SET verified = 1, confirmed_at = UTC_TIMESTAMP(3) WHERE id = ?`, [existing.id]);
      else {
        await m.query(`INSERT INTO user_emails (user_id, email, verified, confirmed_at, is_primary) VALUES (?, ?, 1, UTC_TIMESTAMP(3), 0)`, [userId, email]).catch((error) => {
          // A sign-up with this address committed between our read and the insert.
          if ((error as { code?: string })?.code === 'ER_DUP_ENTRY' || (error as { driverError?: { code?: string } })?.driverError?.code === 'ER_DUP_ENTRY') {
            throw new AppError('conflict', 'This address was linked to another LoginSign account in the meantime.');
          }
          throw error;
        });
      }
      // Any other pending link of the same address of this user is moot now.
      await this.expirePending(m, userId, email);
      return { userId, email };
    });
  }

  /**
   * Removes a linked address (not the primary one, hence never the last) or
   * cancels a pending one, in the caller's transaction. Returns whether a
   * linked address was removed (its apps must stop seeing it).
   */
  async remove(m: EntityManager, userId: number, rawEmail: string): Promise<boolean> {
    const email = normalizeEmail(String(rawEmail ?? ''));
    const rows = await m.query<UserEmailRow[]>(`SELECT id, email, is_primary, verified FROM user_emails WHERE user_id = ? FOR UPDATE`, [userId]);
    const row = rows.find((r) => r.email === email);
    if (!row) {
      const cancelled = await this.expirePending(m, userId, email);
      if (cancelled === 0) throw new AppError('not_found', 'This address is not linked to your account.');
      return false;
    }
    if (row.is_primary) throw new AppError('invalid_request', 'This is your primary address. Make another linked address primary first.');
    if (rows.length <= 1) throw new AppError('invalid_request', 'Your account needs at least one email address.');
    await m.query(`DELETE FROM user_emails WHERE id = ?`, [row.id]);
    return true;
  }

  /** Ends the live links of one pending address; returns how many there were. */
  private async expirePending(m: EntityManager, userId: number, email: string): Promise<number> {
    const result = await m.query<{ affectedRows: number }>(
      `UPDATE email_verifications SET expires_at = UTC_TIMESTAMP(3) WHERE user_id = ? AND email = ? AND used_at IS NULL AND expires_at > UTC_TIMESTAMP(3)`,
      [userId, email],
    );
    return result.affectedRows;
  }

  /** Makes a linked address the primary one (where relayed mail is forwarded). */
  async setPrimary(userId: number, rawEmail: string): Promise<void> {
    const email = normalizeEmail(String(rawEmail ?? ''));
    await this.db.transaction(async (m) => {
      const rows = await m.query<UserEmailRow[]>(`SELECT id, email, verified, is_primary FROM user_emails WHERE user_id = ? FOR UPDATE`, [userId]);
      const row = rows.find((r) => r.email === email && (r.verified || r.is_primary));
      if (!row) throw new AppError('invalid_request', 'Only a linked (verified) address can be primary.');
      await m.query(`UPDATE user_emails SET is_primary = (id = ?) WHERE user_id = ?`, [row.id, userId]);
    });
  }
}
