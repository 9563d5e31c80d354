import { warnIfExposed } from './exposure';

describe('warnIfExposed', () => {
  const warnings = (isProduction: boolean, host: string) => {
    const out: string[] = [];
    warnIfExposed({ isProduction, host }, (message) => out.push(message));
    return out;
  };

  it('warns loudly when a development server is bound beyond loopback', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      const [warning, ...rest] = warnings(false, host);
      expect(rest).toEqual([]);
      expect(warning).toContain(`WARNING: development server bound to ${host}, not 127.0.0.1`);
      expect(warning).toMatch(/!{78}/);
    }
  });

  it('stays quiet on loopback, and in production (where 0.0.0.0 behind a proxy is normal)', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(warnings(false, host)).toEqual([]);
    expect(warnings(true, '0.0.0.0')).toEqual([]);
  });
});
