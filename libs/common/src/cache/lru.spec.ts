import { ByteBudgetLru } from './lru';

const bySize = (_key: string, value: string) => value.length;

describe('ByteBudgetLru', () => {
  it('evicts the least recently used entries once the byte budget is exceeded', () => {
    const lru = new ByteBudgetLru<string, string>(10, bySize);
    lru.set('a', 'xxxx');
    lru.set('b', 'xxxx');
    expect(lru.get('a')).toBe('xxxx'); // a is now the most recent
    lru.set('c', 'xxxx'); // 12 bytes: b goes
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('xxxx');
    expect(lru.get('c')).toBe('xxxx');
    expect(lru.bytes).toBe(8);
    expect(lru.size).toBe(2);
  });

  it('counts a replaced entry once and frees what a deleted one used', () => {
    const lru = new ByteBudgetLru<string, string>(10, bySize);
    lru.set('a', 'xxxxxx');
    lru.set('a', 'xx');
    expect(lru.bytes).toBe(2);
    expect(lru.delete('a')).toBe(true);
    expect(lru.delete('a')).toBe(false);
    expect(lru.bytes).toBe(0);
  });

  it('does not keep an entry larger than the whole budget, and drops the old value of its key', () => {
    const lru = new ByteBudgetLru<string, string>(4, bySize);
    lru.set('a', 'xx');
    lru.set('b', 'xx');
    lru.set('a', 'xxxxx');
    expect(lru.get('a')).toBeUndefined();
    expect(lru.get('b')).toBe('xx');
    expect(lru.bytes).toBe(2);
  });

  it('refuses a budget that is not a positive number', () => {
    expect(() => new ByteBudgetLru<string, string>(0, bySize)).toThrow(/positive/);
    expect(() => new ByteBudgetLru<string, string>(Number.NaN, bySize)).toThrow(/positive/);
  });
});
