import { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';
import { SessionKind } from '@app/common';

/**
 * Cookie names and flags. Over https the names carry the `__Host-` prefix
 * (Secure, Path=/, no Domain), so a sibling subdomain cannot plant them.
 */
function isSecure(config: AppConfig) {
  return config.publicUrl.startsWith('https:');
}

const BASE_NAMES = { user: 'ls_session', developer: 'ls_dev', csrf: 'ls_csrf' } as const;

export function cookieName(config: AppConfig, which: SessionKind | 'csrf'): string {
  return isSecure(config) ? `__Host-${BASE_NAMES[which]}` : BASE_NAMES[which];
}

function options(config: AppConfig, maxAge?: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: isSecure(config), ...(maxAge ? { maxAge } : {}) };
}

export function readCookie(request: FastifyRequest, config: AppConfig, which: SessionKind | 'csrf'): string | undefined {
  return request.cookies?.[cookieName(config, which)];
}

export function setSessionCookie(reply: FastifyReply, config: AppConfig, kind: SessionKind, sessionId: string) {
  reply.setCookie(cookieName(config, kind), sessionId, options(config, config.sessionTtlSeconds));
}

export function clearSessionCookie(reply: FastifyReply, config: AppConfig, kind: SessionKind) {
  reply.clearCookie(cookieName(config, kind), options(config));
}

export function setCsrfCookie(reply: FastifyReply, config: AppConfig, value: string) {
  reply.setCookie(cookieName(config, 'csrf'), value, options(config));
}

/**
 * The pending second step of a login (password right, code still to come):
 * an opaque handle bound to this browser, short-lived like the Redis state it names.
 */
const PENDING_SIGN_IN = 'ls_2step';

function pendingName(config: AppConfig) {
  return isSecure(config) ? `__Host-${PENDING_SIGN_IN}` : PENDING_SIGN_IN;
}

export function readPendingSignInCookie(request: FastifyRequest, config: AppConfig): string | undefined {
  return request.cookies?.[pendingName(config)];
}

export function setPendingSignInCookie(reply: FastifyReply, config: AppConfig, value: string, maxAgeSeconds: number) {
  reply.setCookie(pendingName(config), value, options(config, maxAgeSeconds));
}

export function clearPendingSignInCookie(reply: FastifyReply, config: AppConfig) {
  reply.clearCookie(pendingName(config), options(config));
}
