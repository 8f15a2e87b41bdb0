import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli-process.js';
import { code, get, run } from '../helpers/http.js';
import { makeSourceTree, resticOk, snapshotCount, startRestic } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

function allFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasTool('restic'))('kill -9 of the server in the middle of a backup', () => {
  it('leaves no partial object under a final name; after restart the repository checks and the backup completes', { timeout: 240_000 }, async () => {
    const dataDir = tempDir('rts-crash-');
    const args = ['--path', dataDir, '--no-auth', '--listen', '127.0.0.1:0'];
    let server = await startCli(args);
    const repoDir = join(dataDir, 'pc');
    const source = makeSourceTree(24, 4 << 20);
    await resticOk(`rest:${server.url}/pc/`, ['init']);

    for (let round = 0; round < 2; round++) {
      const repo = `rest:${server.url}/pc/`;
      const packsBefore = allFiles(join(repoDir, 'data')).length;
      const backup = startRestic(repo, ['backup', source]);
      await waitFor(() => allFiles(join(repoDir, 'data')).length >= packsBefore + 2, 60_000);
      server.child.kill('SIGKILL');
      await server.exited;
      // The client would retry for minutes; this one is given up.
      backup.child.kill('SIGKILL');
      await backup.done;

      for (const file of allFiles(repoDir)) {
        const name = basename(file);
        if (/^[0-9a-f]{64}$/.test(name) && !file.includes(`${repoDir}/locks/`)) {
          expect(createHash('sha256').update(readFileSync(file)).digest('hex'), file).toBe(name);
        }
      }

      server = await startCli(args);
      expect(allFiles(dataDir).filter((file) => basename(file).startsWith('.rts-tmp-'))).toEqual([]);
      for (const type of ['data', 'index', 'snapshots', 'keys', 'locks']) {
        const [listing] = await run(server.url, [{ req: get(`/pc/${type}/`), want: [code(200)] }]);
        for (const name of JSON.parse(listing!.text) as string[]) expect(name).toMatch(/^[0-9a-f]{64}$/);
      }
      const repoAfter = `rest:${server.url}/pc/`;
      await resticOk(repoAfter, ['unlock']);
      await resticOk(repoAfter, ['check']);
    }

    const repo = `rest:${server.url}/pc/`;
    await resticOk(repo, ['backup', source]);
    expect(await snapshotCount(repo)).toBe(1);
    await resticOk(repo, ['check', '--read-data']);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
