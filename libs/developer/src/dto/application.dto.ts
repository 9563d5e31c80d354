import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { APPLICATION_LIMITS } from '../application-rules';

// The DTOs check types and sizes so a wrong type is named at once; the
// service applies the URL rules (application-rules.ts) for every caller.

/** Present, or absent; `null` is refused (a field that cannot be cleared). */
const Given = () => ValidateIf((_, value) => value !== undefined);

/** Body of `POST /api/developer/applications`. */
export class CreateApplicationDto {
  @IsString()
  @MaxLength(APPLICATION_LIMITS.nameMax)
  name: string;

  @IsArray()
  @ArrayMinSize(APPLICATION_LIMITS.redirectUrisMin)
  @ArrayMaxSize(APPLICATION_LIMITS.redirectUrisMax)
  @IsString({ each: true })
  @MaxLength(APPLICATION_LIMITS.urlMax, { each: true })
  redirectUris: string[];

  @IsOptional()
  @IsString()
  @MaxLength(APPLICATION_LIMITS.urlMax)
  webhookUrl?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(APPLICATION_LIMITS.urlMax)
  logoUrl?: string | null;
}

/** Body of `PATCH /api/developer/applications/:appId`: absent = unchanged, `null` clears webhookUrl / logoUrl. */
export class UpdateApplicationDto {
  @Given()
  @IsString()
  @MaxLength(APPLICATION_LIMITS.nameMax)
  name?: string;

  @Given()
  @IsArray()
  @ArrayMinSize(APPLICATION_LIMITS.redirectUrisMin)
  @ArrayMaxSize(APPLICATION_LIMITS.redirectUrisMax)
  @IsString({ each: true })
  @MaxLength(APPLICATION_LIMITS.urlMax, { each: true })
  redirectUris?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(APPLICATION_LIMITS.urlMax)
  webhookUrl?: string | null;

  @IsOptional()
  @IsString()
  @MaxLength(APPLICATION_LIMITS.urlMax)
  logoUrl?: string | null;

  /** Registered senders of relay mail (the service checks each entry). */
  @Given()
  @IsArray()
  @ArrayMaxSize(APPLICATION_LIMITS.senderDomainsMax)
  @IsString({ each: true })
  @MaxLength(APPLICATION_LIMITS.domainMax, { each: true })
  senderDomains?: string[];

  @Given()
  @IsArray()
  @ArrayMaxSize(APPLICATION_LIMITS.senderAddressesMax)
  @IsString({ each: true })
  @MaxLength(APPLICATION_LIMITS.emailMax, { each: true })
  senderAddresses?: string[];
}
