import { Column, Entity, PrimaryGeneratedColumn, ValueTransformer } from 'typeorm';

/** BIGINT columns as JS numbers (mysql2 already returns safe integers as numbers; this pins it). */
export const bigintNumber: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** A Developer Portal account (table `developers`); the email is stored normalised. */
@Entity('developers')
export class DeveloperEntity {
  // Read back as a number by mysql2 (supportBigNumbers without bigNumberStrings); the
  // primary-column decorator takes no transformer, and right after an insert TypeORM
  // sets mysql2's insertId (a string here), so DevelopersService applies Number().
  @PrimaryGeneratedColumn('increment', { type: 'bigint', unsigned: true })
  id: number;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash: string;

  // Set by the service, so an insert needs no read-back.
  @Column({ name: 'created_at', type: 'datetime', precision: 3, update: false })
  createdAt: Date;
}
