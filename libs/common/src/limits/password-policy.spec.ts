import { checkPasswordPolicy, isCommonPassword, loadCommonPasswords, PASSWORD_POLICY } from './password-policy';

describe('checkPasswordPolicy', () => {
  it('ships at least 100,000 common passwords', () => {
    expect(loadCommonPasswords()).toBeGreaterThanOrEqual(100_000);
  });

  it('refuses common passwords, in any letter case, with a description that says why', () => {
    for (const password of ['password', 'password1', 'Password1', 'PASSWORD123', 'iloveyou123', 'qwertyuiop', '1q2w3e4r5t']) {
      expect(isCommonPassword(password)).toBe(true);
      expect(() => checkPasswordPolicy(password)).toThrow(/password is one of the most common passwords/);
    }
  });

  it('accepts an uncommon password of 8 to 128 characters and returns it', () => {
    for (const password of ['correct horse battery staple', 'zq8#Lm2!vR', 'a'.repeat(7) + '\u{1F600}', 'x9'.repeat(64)]) {
      expect(checkPasswordPolicy(password)).toBe(password);
    }
  });

  it('counts characters as people do (code points), from 8 to 128', () => {
    expect(() => checkPasswordPolicy('Zq8#Lm2')).toThrow(/must be 8 to 128 characters/);
    expect(() => checkPasswordPolicy('zq8#Lm2!'.repeat(16) + 'x')).toThrow(/must be 8 to 128 characters/);
    // 128 emoji are 256 UTF-16 units but 128 characters.
    expect(checkPasswordPolicy('\u{1F510}'.repeat(PASSWORD_POLICY.max))).toHaveLength(256);
    expect(() => checkPasswordPolicy('\u{1F510}'.repeat(PASSWORD_POLICY.max + 1))).toThrow(/must be 8 to 128 characters/);
  });

  it('refuses values that are not strings, naming the field', () => {
    for (const value of [undefined, null, 12345678, ['password'], { length: 10 }]) {
      expect(() => checkPasswordPolicy(value, 'new password')).toThrow(/Invalid field: new password must be a string/);
    }
  });
});
