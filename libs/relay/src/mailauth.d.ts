/** The part of mailauth 4 (which ships no types) that the relay uses. */
declare module 'mailauth' {
  export type DNSResolver = (name: string, rrtype: string) => Promise<unknown>;
  export interface AuthStatus {
    result: string;
    comment?: string;
  }
  export interface SPFResult {
    domain: string;
    status: AuthStatus;
    header: string;
    info: string;
  }
  export interface DKIMResult {
    signingDomain?: string;
    selector?: string;
    status: AuthStatus;
  }
  export interface DMARCResult {
    domain: string;
    policy: string;
    status: AuthStatus;
    alignment?: { spf?: { result?: string | false }; dkim?: { result?: string | false } };
  }
  export interface AuthenticateResult {
    dkim: { results?: DKIMResult[] };
    spf: SPFResult | false;
    dmarc: DMARCResult | false;
    arc: unknown;
    headers: string;
  }
  export interface AuthenticateOptions {
    sender?: string;
    ip?: string;
    helo?: string;
    mta?: string;
    resolver?: DNSResolver;
    disableArc?: boolean;
    disableDmarc?: boolean;
    disableBimi?: boolean;
    trustReceived?: boolean;
  }
  export function authenticate(input: Buffer | string, opts?: AuthenticateOptions): Promise<AuthenticateResult>;
}

declare module 'mailauth/lib/spf' {
  import { DNSResolver, SPFResult } from 'mailauth';
  export function spf(opts: { sender?: string; ip: string; helo?: string; mta?: string; resolver?: DNSResolver; maxResolveCount?: number }): Promise<SPFResult>;
}

declare module 'mailauth/lib/dkim/verify' {
  import { DKIMResult, DNSResolver } from 'mailauth';
  export function dkimVerify(input: Buffer | string, opts?: { resolver?: DNSResolver; sender?: string }): Promise<{ results: DKIMResult[] }>;
}
