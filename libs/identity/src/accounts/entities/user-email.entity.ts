import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from './user.entity';

/** An address of a user (table `user_emails`); stored normalised (trimmed, lower-case). */
@Entity('user_emails')
export class UserEmailEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', unsigned: true })
  id: number;

  @Column({ name: 'user_id', type: 'bigint', unsigned: true, transformer: bigintNumber })
  userId: number;

  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'boolean' })
  verified: boolean;

  @Column({ name: 'is_primary', type: 'boolean' })
  isPrimary: boolean;

  @Column({ name: 'created_at', type: 'datetime', precision: 3, insert: false, update: false })
  createdAt: Date;
}
