import { describe, expect, it } from 'vitest';
import { parseRange } from '../../server/range.js';

describe('parseRange', () => {
  const cases: [string | undefined, number, ReturnType<typeof parseRange>][] = [
    [undefined, 10, { kind: 'whole' }],
    ['bytes=0-', 10, { kind: 'partial', range: { start: 0, end: 9 } }],
    ['bytes=3-5', 10, { kind: 'partial', range: { start: 3, end: 5 } }],
    ['bytes=3-500', 10, { kind: 'partial', range: { start: 3, end: 9 } }],
    ['bytes=-3', 10, { kind: 'partial', range: { start: 7, end: 9 } }],
    ['bytes=-30', 10, { kind: 'partial', range: { start: 0, end: 9 } }],
    ['BYTES = 2-2', 10, { kind: 'partial', range: { start: 2, end: 2 } }],
    ['bytes=10-', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-1', 0, { kind: 'unsatisfiable' }],
    ['bytes=-0', 10, { kind: 'unsatisfiable' }],
    ['bytes=5-4', 10, { kind: 'unsatisfiable' }],
    ['bytes=a-b', 10, { kind: 'unsatisfiable' }],
    ['bytes=1', 10, { kind: 'unsatisfiable' }],
    ['bytes=-', 10, { kind: 'unsatisfiable' }],
    ['bytes=+1-2', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-1,4-5', 10, { kind: 'whole' }],
    ['lines=0-1', 10, { kind: 'whole' }],
    [`bytes=0-${'9'.repeat(40)}`, 10, { kind: 'partial', range: { start: 0, end: 9 } }],
    [`bytes=${'9'.repeat(40)}-`, 10, { kind: 'unsatisfiable' }],
  ];
  it.each(cases)('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
