import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeSourceTree, resticOk, snapshotCount, startRestic } from '../helpers/restic.js';
import { startServer } from '../helpers/running-server.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { tempFilesUnder } from '../helpers/temp-files.js';
import { canMount, hasTool } from '../helpers/tools.js';

/** Every object file under a repository must hash to its own name: nothing half-written under a final name. */
function misnamedObjects(repo: string): string[] {
  return readdirSync(repo, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /^[0-9a-f]{64}$/.test(entry.name) && basename(entry.parentPath) !== 'keys')
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => createHash('sha256').update(readFileSync(path)).digest('hex') !== basename(path));
}

describe.runIf(hasTool('restic'))('restic on a bad day', () => {
  it.runIf(canMount())('a full disk: 507, nothing partial; once space is freed the same backup completes and checks clean', { timeout: 240_000 }, async () => {
    const disk = new FakeUsbDisk(64);
    const filler = join(disk.mountPoint, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(34 << 20));
    const { url, events } = await startServer({ path: disk.mountPoint });
    const repo = `rest:${url}/pc/`;
    await resticOk(repo, ['init']);
    const source = makeSourceTree(10, 3 << 20);
    const backup = startRestic(repo, ['backup', source], { timeoutMs: 200_000 });
    const deadline = Date.now() + 120_000;
    while (!events.some((event) => event.status === 507)) {
      if (Date.now() > deadline) throw new Error('the disk never filled up');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(misnamedObjects(join(disk.mountPoint, 'pc'))).toEqual([]);
    // restic retries the refused upload; freeing space lets the same run finish.
    rmSync(filler);
    const result = await backup.done;
    expect(result.stderr).not.toMatch(/Fatal/);
    expect(result.code).toBe(0);
    expect(await snapshotCount(repo)).toBe(1);
    await resticOk(repo, ['check', '--read-data']);
    expect(misnamedObjects(join(disk.mountPoint, 'pc'))).toEqual([]);
    // Checked once every upload has ended (at the first 507 others may still be on their way): a refused upload left no temp file.
    expect(tempFilesUnder(disk.mountPoint)).toEqual([]);
  });

  it('four computers backing up at once while a fifth reads: no error, every repository checks clean', { timeout: 240_000 }, async () => {
    const { url, events } = await startServer();
    const reader = `rest:${url}/reader/`;
    await resticOk(reader, ['init']);
    await resticOk(reader, ['backup', makeSourceTree(8, 1 << 20)]);
    const repos = ['anna', 'bob', 'carla', 'dan'].map((name) => `rest:${url}/${name}/`);
    await Promise.all(repos.map((repo) => resticOk(repo, ['init'])));
    const sources = repos.map(() => makeSourceTree(12, 1 << 20));
    let reading = true;
    const reads = (async () => {
      let rounds = 0;
      while (reading) {
        await resticOk(reader, ['check', '--read-data']);
        rounds++;
      }
      return rounds;
    })();
    await Promise.all(repos.flatMap((repo, i) => [resticOk(repo, ['backup', sources[i] as string]).then(() => resticOk(repo, ['backup', sources[i] as string]))]));
    reading = false;
    expect(await reads).toBeGreaterThan(0);
    expect(events.filter((event) => event.status >= 500)).toEqual([]);
    for (const repo of repos) {
      expect(await snapshotCount(repo)).toBe(2);
      await resticOk(repo, ['check', '--read-data']);
    }
  });
});
