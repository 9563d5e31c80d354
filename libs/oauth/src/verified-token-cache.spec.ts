import { VERIFIED_TOKENS_MAX, VerifiedTokenCache } from './verified-token-cache';

describe('VerifiedTokenCache', () => {
  const later = () => Date.now() + 60_000;

  it('keys by the SHA-256 of the token, never the token itself', () => {
    const key = VerifiedTokenCache.keyOf('header.payload.signature');
    expect(key).toHaveLength(44);
    expect(key).not.toContain('payload');
    expect(VerifiedTokenCache.keyOf('header.payload.signature')).toBe(key);
    expect(VerifiedTokenCache.keyOf('header.payload.signaturE')).not.toBe(key);
  });

  it('forgets an entry at the token expiry', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('expired', 'claims', Date.now() - 1);
    cache.set('live', 'claims', later());
    expect(cache.get('expired')).toBeUndefined();
    expect(cache.get('live')).toBe('claims');
    expect(cache.size).toBe(1);
  });

  it('stays within its bound, evicting the least recently used entry', () => {
    const cache = new VerifiedTokenCache<number>(3);
    cache.set('a', 1, later());
    cache.set('b', 2, later());
    cache.set('c', 3, later());
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('d', 4, later());
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([1, 3, 4]);
    cache.set('d', 5, later()); // replacing does not evict
    expect(cache.size).toBe(3);
    expect(cache.get('d')).toBe(5);
  });

  it('has a documented default bound', () => {
    const cache = new VerifiedTokenCache<number>();
    for (let i = 0; i < VERIFIED_TOKENS_MAX + 10; i++) cache.set(String(i), i, later());
    expect(cache.size).toBe(VERIFIED_TOKENS_MAX);
    expect(cache.get('0')).toBeUndefined();
    expect(cache.get(String(VERIFIED_TOKENS_MAX + 9))).toBe(VERIFIED_TOKENS_MAX + 9);
  });
});
