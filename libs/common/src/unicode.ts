/** True when the string is well-formed UTF-16 (no lone surrogate). */
export function isWellFormedUtf16(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * Characters that are invisible or ignored by collations: controls (Cc),
 * format characters (Cf: zero-width space and joiners, BOM, bidi marks, soft hyphen),
 * surrogates, line and paragraph separators.
 */
export const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

export interface JsonShapeProblem {
  problem: 'too_deep' | 'ill_formed';
}

/**
 * Walks a parsed JSON value without recursion: returns the first problem,
 * nesting deeper than `maxDepth` or a key or string that is not well-formed
 * UTF-16, or null when there is none.
 */
export function jsonShapeProblem(value: unknown, maxDepth: number): JsonShapeProblem | null {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'string') {
      if (!isWellFormedUtf16(node)) return { problem: 'ill_formed' };
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxDepth) return { problem: 'too_deep' };
    if (Array.isArray(node)) {
      for (const item of node) stack.push([item, depth + 1]);
    } else {
      for (const [key, item] of Object.entries(node as Record<string, unknown>)) {
        if (!isWellFormedUtf16(key)) return { problem: 'ill_formed' };
        stack.push([item, depth + 1]);
      }
    }
  }
  return null;
}
