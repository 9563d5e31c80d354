import * as argon2 from 'argon2';
import { ARGON2_OPTIONS, PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('stores argon2id (19 MiB, t=2, p=1) in the canonical PHC order, with a fresh salt each time', async () => {
    const a = await hasher.hash('a long password');
    const b = await hasher.hash('a long password');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(b).not.toBe(a);
    expect(a).not.toContain('a long password');
  });

  it('verifies the right password only', async () => {
    const hash = await hasher.hash('a long password');
    expect(await hasher.verify(hash, 'a long password')).toBe(true);
    expect(await hasher.verify(hash, 'a long passwore')).toBe(false);
    expect(await hasher.verify(hash, '')).toBe(false);
  });

  it('verifies hashes written by the argon2 package (parameters in m,p,t order)', async () => {
    const stored = await argon2.hash('a developer password', ARGON2_OPTIONS);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await hasher.verify(stored, 'a developer password')).toBe(true);
    expect(await hasher.verify(stored, 'another password')).toBe(false);
  });

  it('answers false, never throws, for an unknown account or a malformed stored hash', async () => {
    const dummy = await hasher.dummyHash();
    expect(dummy).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.dummyHash()).toBe(dummy);
    expect(await hasher.verify(null, 'a long password')).toBe(false);
    expect(await hasher.verify(undefined, '')).toBe(false);
    for (const bad of ['', 'plain text', '$argon2id$v=19$m=19456,t=2,p=1$short$short', '$2b$10$abcdefghijklmnopqrstuv']) {
      expect(await hasher.verify(bad, 'a long password')).toBe(false);
    }
  });
});
