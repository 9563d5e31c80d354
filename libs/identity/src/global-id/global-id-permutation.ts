import { createHmac } from 'node:crypto';

/** 26 * 26 letter pairs * 10000 numbers: every `XX1234` Global User ID. */
export const GLOBAL_ID_SPACE = 6_760_000;

/** The space is exactly HALF^2, so a balanced Feistel network covers it with no cycle walking. */
const HALF = 2600;
const ROUNDS = 6;

/**
 * A keyed bijection on [0, GLOBAL_ID_SPACE): a balanced numeric Feistel
 * network over Z_2600 x Z_2600. Sequence numbers go in, ids come out in an
 * order that reveals neither sign-up order nor user count without the key.
 *
 * Each round function F_r is a table of 2600 values derived once from
 * HMAC-SHA256(key, "r:x"), so permute() is a handful of array lookups.
 * Any F_r gives a bijection (each round is invertible: L = R' - F_r(L') mod 2600);
 * the HMAC only makes the order unpredictable.
 */
export class GlobalIdPermutation {
  private readonly tables: Uint16Array[] = [];

  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('The Global ID key must be at least 16 bytes');
    for (let r = 0; r < ROUNDS; r++) {
      const table = new Uint16Array(HALF);
      for (let x = 0; x < HALF; x++) {
        // 32 bits mod 2600: the bias (< 1e-6) is irrelevant here.
        table[x] = createHmac('sha256', key).update(`${r}:${x}`).digest().readUInt32BE(0) % HALF;
      }
      this.tables.push(table);
    }
  }

  // Hot path: no global lookups (Math, Number...), which are slow inside vm contexts such as jest's.
  permute(n: number): number {
    if (!inSpace(n)) throw new RangeError(`Global ID sequence number out of range: ${n}`);
    let left = (n / HALF) | 0;
    let right = n % HALF;
    for (const table of this.tables) {
      const next = (left + table[right]) % HALF;
      left = right;
      right = next;
    }
    return left * HALF + right;
  }
}

/** Also rejects NaN and fractions. */
function inSpace(v: number): boolean {
  return v >= 0 && v < GLOBAL_ID_SPACE && v % 1 === 0;
}

/** "AA".."ZZ" and "0000".."9999", built once so formatting is two lookups. */
const PAIRS = Array.from({ length: 26 * 26 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
const DIGITS = Array.from({ length: 10000 }, (_, i) => String(i).padStart(4, '0'));

/** v in [0, 6760000) -> "XX1234": v / 10000 picks the letter pair, v % 10000 the digits. */
export function formatGlobalId(v: number): string {
  if (!inSpace(v)) throw new RangeError(`Global ID value out of range: ${v}`);
  return PAIRS[(v / 10000) | 0] + DIGITS[v % 10000];
}
