/** An inclusive byte range of an object, as HTTP `Range` counts it. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The outcome of a `Range` header against an object of a known size. */
export type RangeResult = { kind: 'whole' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

const DIGITS = /^\d+$/;

/**
 * Reads a single `bytes=` range as restic sends it (`off-`, `off-end`) and the
 * suffix form (`-n`). Ends past the object are clipped. Several ranges are not
 * supported and answered with the whole object, which HTTP allows; a malformed
 * range is unsatisfiable, as in Go's http.ServeContent that rest-server uses.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { kind: 'whole' };
  const spec = (match[1] as string).trim();
  if (spec.includes(',')) return { kind: 'whole' };
  const dash = spec.indexOf('-');
  if (dash === -1) return { kind: 'unsatisfiable' };
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();

  if (first === '') {
    if (!DIGITS.test(last)) return { kind: 'unsatisfiable' };
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  if (!DIGITS.test(first) || (last !== '' && !DIGITS.test(last))) return { kind: 'unsatisfiable' };
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}
