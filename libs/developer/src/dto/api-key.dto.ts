import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

/** Limits of developer API keys. */
export const API_KEY_LIMITS = {
  nameMax: 100,
  expiresInDaysMax: 3650,
} as const;

/** Body of `POST /api/developer/api-keys`: a name, and optionally a lifetime in whole days. */
export class CreateApiKeyDto {
  @IsString()
  name: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(API_KEY_LIMITS.expiresInDaysMax)
  expiresInDays?: number;
}
