import { emailThrottleKey, normalizeEmail, parseEmail } from './email';
import { isWellFormedUtf16, jsonShapeProblem } from './unicode';

describe('email rule', () => {
  it('normalises: ASCII whitespace trimmed, NFC, lower case', () => {
    expect(normalizeEmail('  Bob@Example.COM\t')).toBe('bob@example.com');
    expect(normalizeEmail('Jose\u0301@example.com')).toBe('jos\u00e9@example.com');
    expect(parseEmail(' Bob@Example.com ')).toBe('bob@example.com');
  });

  it('refuses control, format and invisible characters, lone surrogates and non-strings', () => {
    for (const ch of ['\u0000', '\u0001', '\u007f', '\u200b', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u202e', '\u2028', '\ud800', '\udc00', '\u00a0']) {
      expect({ ch, at: parseEmail(`bob${ch}@example.com`), end: parseEmail(`bob@example.com${ch}`) }).toEqual({ ch, at: null, end: null });
    }
    for (const value of [undefined, null, 42, {}, ['a@b.c'], '', 'not an address', `${'a'.repeat(320)}@example.com`]) expect(parseEmail(value)).toBeNull();
  });

  it('counts spellings that differ only by invisible characters under one throttle key', () => {
    expect(emailThrottleKey('Bob@example.com\u0000')).toBe(emailThrottleKey('bob@example.com'));
    expect(emailThrottleKey('bo\u200bb@example.com')).toBe(emailThrottleKey('bob@example.com'));
    expect(emailThrottleKey('bob@example.com')).not.toBe(emailThrottleKey('rob@example.com'));
  });
});

describe('JSON shape', () => {
  it('tells well-formed UTF-16 from lone surrogates', () => {
    expect(isWellFormedUtf16('a😀b日本')).toBe(true);
    for (const bad of ['\ud800', 'a\udc00', '\ud83d', '\ude00\ud83d', 'x\ud800y']) expect(isWellFormedUtf16(bad)).toBe(false);
  });

  it('finds nesting over the limit and ill-formed keys or strings, without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(jsonShapeProblem(deep, 32)).toEqual({ problem: 'too_deep' });
    expect(jsonShapeProblem({ a: [{ b: 'ok' }] }, 32)).toBeNull();
    expect(jsonShapeProblem({ a: ['\ud800'] }, 32)).toEqual({ problem: 'ill_formed' });
    expect(jsonShapeProblem({ ['\udc00']: 1 }, 32)).toEqual({ problem: 'ill_formed' });
    expect(jsonShapeProblem('plain text', 32)).toBeNull();
  });
});
