import { IsNotEmpty, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { LIMITS } from '../limits';

/** Body of `POST /api/account/signup`: types and lengths; the service re-checks the trimmed values. */
export class SignUpDto {
  @IsString()
  @Length(1, LIMITS.nameMax)
  name: string;

  @IsString()
  @MaxLength(LIMITS.emailMax)
  email: string; // format checked by the service, after trimming

  // Length (in characters) and the common-password list: checkPasswordPolicy in the service.
  @IsString()
  @MaxLength(LIMITS.passwordMax * 4)
  password: string;

  @IsString()
  @Length(1, LIMITS.regionMax)
  region: string;
}

/** Body of `POST /api/account/login`. */
export class LoginDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(LIMITS.emailMax)
  email: string;

  // Generous cap: old passwords may predate today's rules, but argon2 input stays bounded.
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

/** Body of `POST /api/account/password/forgot` (and the developers' twin). */
export class ForgotPasswordDto {
  @IsString()
  @MaxLength(LIMITS.emailMax)
  email: string; // format checked by the service, after trimming
}

/** Body of `POST /api/account/password/reset` (and the developers' twin). */
export class ResetPasswordDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token: string;

  // Length (in characters) and the common-password list: checkPasswordPolicy in the service.
  @IsString()
  @MaxLength(LIMITS.passwordMax * 4)
  password: string;
}
