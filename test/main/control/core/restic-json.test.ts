import { describe, expect, it } from 'vitest';
import { readSnapshots } from '../../../../main/control/core/restic-json.js';

const id = (digit: string) => digit.repeat(64);

describe('reading restic snapshots --json', () => {
  it('newest first, with what the restore page and the new-computer line use; a size only where restic gives a summary (0.17 and later); anything without a snapshot ID and time left out', () => {
    const read = readSnapshots([
      { id: id('a'), short_id: 'aaaaaaaa', time: '2026-10-01T10:00:00Z', hostname: 'annas-laptop', paths: ['/home/anna'], excludes: ['/home/anna/.cache', 7] },
      { id: id('b'), time: '2026-12-01T10:00:00+01:00', hostname: 'annas-laptop', paths: ['/home/anna', null], summary: { total_bytes_processed: 1234 } },
      { id: 'not-an-id', time: '2026-12-02T10:00:00Z' },
      { time: 'no id' },
      'text',
    ]);
    expect(read).toEqual([
      { id: id('b'), shortId: 'bbbbbbbb', time: '2026-12-01T10:00:00+01:00', host: 'annas-laptop', paths: ['/home/anna'], excludes: [], sizeBytes: 1234 },
      { id: id('a'), shortId: 'aaaaaaaa', time: '2026-10-01T10:00:00Z', host: 'annas-laptop', paths: ['/home/anna'], excludes: ['/home/anna/.cache'], sizeBytes: null },
    ]);
    expect(readSnapshots(null)).toEqual([]);
    expect(readSnapshots({ id: id('c') })).toEqual([]);
  });
});
