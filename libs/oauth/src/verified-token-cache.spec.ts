import { flatRecordBytes } from '@app/common';
import { VERIFIED_ENTRY_OVERHEAD_BYTES, VERIFIED_TOKENS_BUDGET_BYTES, VerifiedTokenCache } from './verified-token-cache';

describe('VerifiedTokenCache', () => {
  const later = () => Date.now() + 60_000;
  const claims = (n: number) => ({ n });

  it('keys by the SHA-256 of the token, never the token itself', () => {
    const key = VerifiedTokenCache.keyOf('header.payload.signature');
    expect(key).toHaveLength(44);
    expect(key).not.toContain('payload');
    expect(VerifiedTokenCache.keyOf('header.payload.signature')).toBe(key);
    expect(VerifiedTokenCache.keyOf('header.payload.signaturE')).not.toBe(key);
  });

  it('forgets an entry at the token expiry', () => {
    const cache = new VerifiedTokenCache<{ n: number }>();
    cache.set('expired', claims(1), Date.now() - 1);
    cache.set('live', claims(2), later());
    expect(cache.get('expired')).toBeUndefined();
    expect(cache.get('live')).toEqual(claims(2));
    expect(cache.size).toBe(1);
  });

  it('stays within its byte budget, evicting the least recently used entry', () => {
    const entryBytes = VERIFIED_ENTRY_OVERHEAD_BYTES + 2 + 100;
    const cache = new VerifiedTokenCache<{ n: number }>(3 * entryBytes, () => 100);
    cache.set('a', claims(1), later());
    cache.set('b', claims(2), later());
    cache.set('c', claims(3), later());
    expect(cache.get('a')).toEqual(claims(1)); // a is now the most recently used
    cache.set('d', claims(4), later());
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([claims(1), claims(3), claims(4)]);
    cache.set('d', claims(5), later()); // replacing does not evict
    expect(cache.size).toBe(3);
    expect(cache.get('d')).toEqual(claims(5));
    expect(cache.bytes).toBe(3 * entryBytes);
  });

  it('holds tens of thousands of typical tokens in its default budget, and no more bytes than it', () => {
    const cache = new VerifiedTokenCache<Record<string, unknown>>();
    const typical = (i: number) => ({
      iss: 'https://id.example.com',
      sub: `c_${String(i).padStart(22, '0')}`,
      aud: 'https://id.example.com',
      client_id: 'ls_0123456789abcdef0123',
      scope: 'openid profile email',
      jti: String(i).padStart(22, 'x'),
      iat: 1_800_000_000,
      exp: 1_800_003_600,
    });
    const perEntry = VERIFIED_ENTRY_OVERHEAD_BYTES + 2 * 44 + flatRecordBytes(typical(0));
    const fits = Math.floor(VERIFIED_TOKENS_BUDGET_BYTES / perEntry);
    expect(fits).toBeGreaterThan(30_000);
    for (let i = 0; i < fits + 10; i++) cache.set(VerifiedTokenCache.keyOf(String(i)), typical(i), later());
    expect(cache.bytes).toBeLessThanOrEqual(VERIFIED_TOKENS_BUDGET_BYTES);
    expect(cache.get(VerifiedTokenCache.keyOf('0'))).toBeUndefined();
    expect(cache.get(VerifiedTokenCache.keyOf(String(fits + 9)))).toEqual(typical(fits + 9));
  });
});
