import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScrubReader, StopReading } from '../../../server/scrub/scrub-reader.js';
import { tempDir } from '../../helpers/temp-dir.js';

let reader: ScrubReader | undefined;
afterEach(() => reader?.close());

describe('the scrub reader', () => {
  it('reads many files of mixed sizes asked for at once, each answer for its own file, in any order they finish', { timeout: 60_000 }, async () => {
    const folder = tempDir('rts-reader-');
    const sizes = [5 << 20, 0, 3, 4, (1 << 20) + 1, 700_000, 2 << 20, 17, 1 << 20, 64 << 10];
    const files = sizes.map((size, index) => {
      const data = randomBytes(size);
      const path = join(folder, `file-${index}`);
      writeFileSync(path, data);
      return { path, data };
    });
    reader = new ScrubReader(3);
    const reads = await Promise.all(files.map(({ path }) => reader!.read(path)));
    reads.forEach((read, index) => {
      const { data } = files[index]!;
      expect(read).toMatchObject({
        size: data.length,
        read: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
        tail: data.length >= 4 ? data.readUInt32LE(data.length - 4) : null,
      });
    });
  });

  it('a file that cannot be read fails alone: the files asked for after it are read', { timeout: 60_000 }, async () => {
    const folder = tempDir('rts-reader-');
    writeFileSync(join(folder, 'there'), 'contents');
    reader = new ScrubReader(1);
    const missing = reader.read(join(folder, 'gone'));
    const there = reader.read(join(folder, 'there'));
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await there).sha256).toBe(createHash('sha256').update('contents').digest('hex'));
  });

  it('closed while files are read and more wait: every one of them ends as stopped, none is left waiting', { timeout: 60_000 }, async () => {
    const folder = tempDir('rts-reader-');
    const paths = Array.from({ length: 8 }, (_, index) => {
      const path = join(folder, `file-${index}`);
      writeFileSync(path, randomBytes(256 << 10));
      return path;
    });
    reader = new ScrubReader(2);
    // 64 KiB per second: each file takes seconds, so the close comes mid-read.
    reader.setLimit(64 << 10);
    const reads = paths.map((path) => reader!.read(path).then(() => 'read', (error: Error) => error));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await reader.close();
    const outcomes = await Promise.all(reads);
    expect(outcomes.every((outcome) => outcome instanceof StopReading)).toBe(true);
    await expect(reader.read(paths[0]!)).rejects.toBeInstanceOf(StopReading);
  });
});
