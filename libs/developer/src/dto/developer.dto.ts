import { Transform } from 'class-transformer';
import { trimEmail } from '@app/common';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Length, MaxLength } from 'class-validator';

/** Field limits of developer accounts (match the `developers` columns). */
export const DEVELOPER_LIMITS = {
  nameMax: 200,
  emailMax: 320,
  passwordMin: 8,
  passwordMax: 128,
} as const;

/** Pasted addresses often carry spaces; the service lower-cases them too (normalizeEmail). */
const Trimmed = () => Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? trimEmail(value) : value));

/** Body of `POST /api/developer/signup`: types and lengths; the service re-checks the trimmed values. */
export class DeveloperSignupDto {
  @IsString()
  @Length(1, DEVELOPER_LIMITS.nameMax)
  name: string;

  @Trimmed()
  @IsString()
  @MaxLength(DEVELOPER_LIMITS.emailMax)
  @IsEmail()
  email: string;

  // Length (in characters) and the common-password list: checkPasswordPolicy in the service.
  @IsString()
  @MaxLength(DEVELOPER_LIMITS.passwordMax * 4)
  password: string;
}

/** Body of `POST /api/developer/login`. */
export class DeveloperLoginDto {
  @Trimmed()
  @IsString()
  @IsNotEmpty()
  @MaxLength(DEVELOPER_LIMITS.emailMax)
  email: string;

  // Bounded so argon2 never hashes megabytes; any other value is just a wrong password.
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  password: string;

  /** With two-step sign-in on: the authenticator app's code or an unused recovery code. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  otp?: string;
}
