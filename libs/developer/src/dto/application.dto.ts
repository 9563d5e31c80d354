import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { APPLICATION_LIMITS, APPLICATION_TYPES, ApplicationType, ID_TOKEN_SIGNING_ALGS, IdTokenSigningAlg } from '../application-rules';

// The DTOs check types and sizes so a wrong type is named at once; the
// service applies the URL rules (application-rules.ts) for every caller.

/** Present, or absent; `null` is refused (a field that cannot be cleared). */
const Given = () => ValidateIf((_, value) => value !== undefined);

// Listed bottom-up, the order in which stacked decorators register, so the
// checks (and the first error reported) stay in the order they read.

/** A URL field that may be absent or `null` (none). */
const OptionalUrl = () => applyDecorators(MaxLength(APPLICATION_LIMITS.urlMax), IsString(), IsOptional());

/** The redirect URIs: a list of strings, within the list and URL size limits. */
const RedirectUris = () =>
  applyDecorators(
    MaxLength(APPLICATION_LIMITS.urlMax, { each: true }),
    IsString({ each: true }),
    ArrayMaxSize(APPLICATION_LIMITS.redirectUrisMax),
    ArrayMinSize(APPLICATION_LIMITS.redirectUrisMin),
    IsArray(),
  );

/** Post-logout redirect URIs: like the redirect URIs, but the list may be empty. */
const PostLogoutRedirectUris = () =>
  applyDecorators(MaxLength(APPLICATION_LIMITS.urlMax, { each: true }), IsString({ each: true }), ArrayMaxSize(APPLICATION_LIMITS.redirectUrisMax), IsArray(), Given());

/** The settings a developer may give at creation and change later (each absent = default / unchanged). */
abstract class ApplicationSettingsDto {
  @OptionalUrl()
  webhookUrl?: string | null;

  @OptionalUrl()
  logoUrl?: string | null;

  @Given()
  @IsIn(ID_TOKEN_SIGNING_ALGS)
  idTokenSigningAlg?: IdTokenSigningAlg;

  /** RFC 9126: accept only pushed authorization requests (default false). */
  @Given()
  @IsBoolean()
  requirePushedAuthorizationRequests?: boolean;

  /** `web` (default), `spa` or `native`; fixed for the application's life (a PATCH may only name the current type). */
  @Given()
  @IsIn(APPLICATION_TYPES)
  type?: ApplicationType;

  @PostLogoutRedirectUris()
  postLogoutRedirectUris?: string[];
}

/** Body of `POST /api/developer/applications`. */
export class CreateApplicationDto extends ApplicationSettingsDto {
  @IsString()
  @MaxLength(APPLICATION_LIMITS.nameMax)
  name: string;

  @RedirectUris()
  redirectUris: string[];
}

/** Body of `PATCH /api/developer/applications/:appId`: absent = unchanged, `null` clears webhookUrl / logoUrl. */
export class UpdateApplicationDto extends ApplicationSettingsDto {
  @Given()
  @IsString()
  @MaxLength(APPLICATION_LIMITS.nameMax)
  name?: string;

  @Given()
  @RedirectUris()
  redirectUris?: string[];

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
