import { hashRecoveryCode, matchTotpStep, newRecoveryCodes, normalizeRecoveryCode, totpUri } from './totp';

/** RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890" (base32 below); 6 digits are the last 6 of the 8-digit vectors. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: [number, string][] = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
];

describe('TOTP (RFC 6238)', () => {
  it.each(VECTORS)('at %i s the code %s is accepted, and names its 30-second step', (seconds, code) => {
    expect(matchTotpStep(RFC_SECRET, code, seconds * 1000)).toBe(Math.floor(seconds / 30));
  });

  it('accepts one step of drift either way, and nothing further', () => {
    const [seconds, code] = VECTORS[4];
    const step = Math.floor(seconds / 30);
    expect(matchTotpStep(RFC_SECRET, code, (seconds + 30) * 1000)).toBe(step);
    expect(matchTotpStep(RFC_SECRET, code, (seconds - 30) * 1000)).toBe(step);
    expect(matchTotpStep(RFC_SECRET, code, (seconds + 90) * 1000)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, code, (seconds - 90) * 1000)).toBeNull();
  });

  it('refuses anything that is not 6 digits', () => {
    for (const code of ['', '28708', '2870822', 'abcdef', ' 287082', '287082\n']) expect(matchTotpStep(RFC_SECRET, code, 59_000)).toBeNull();
  });

  it('builds the otpauth URI authenticator apps read', () => {
    const uri = new URL(totpUri('ada@example.com', RFC_SECRET));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(RFC_SECRET);
    expect(uri.searchParams.get('issuer')).toBe('LoginSign');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
  });
});

describe('recovery codes', () => {
  it('are 10 distinct codes that normalise (case, spaces, dashes) to the same hash', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
      const typed = ` ${code.toUpperCase().replace('-', ' ')} `;
      expect(hashRecoveryCode(normalizeRecoveryCode(typed)!)).toBe(hashRecoveryCode(normalizeRecoveryCode(code)!));
    }
    expect(normalizeRecoveryCode('short')).toBeNull();
    expect(normalizeRecoveryCode('x'.repeat(11))).toBeNull();
    expect(normalizeRecoveryCode('abcde-fghi!')).toBeNull();
  });
});
