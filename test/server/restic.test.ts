import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, makeObject, post, run } from '../helpers/http.js';
import { makeSourceTree, restic, resticOk, snapshotCount, treeDigest } from '../helpers/restic.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

describe.skipIf(!hasTool('restic'))('real restic against the server', () => {
  it('inits, backs up twice, checks, restores byte for byte, forgets and prunes, unlocks', { timeout: 240_000 }, async () => {
    const { url, dataDir } = await startServer();
    const repo = `rest:${url}/family/laptop/`;
    const source = makeSourceTree(12, 3 << 20);

    await resticOk(repo, ['init']);
    await resticOk(repo, ['backup', source]);
    appendFileSync(join(source, 'dir0', 'file0.bin'), 'changed after the first backup');
    writeFileSync(join(source, 'dir1', 'new.txt'), 'a new file');
    await resticOk(repo, ['backup', source]);
    expect(await snapshotCount(repo)).toBe(2);
    await resticOk(repo, ['check', '--read-data']);

    const target = tempDir('rts-restore-');
    await resticOk(repo, ['restore', 'latest', '--target', target]);
    expect(treeDigest(join(target, source))).toEqual(treeDigest(source));

    await resticOk(repo, ['forget', '--keep-last', '1', '--prune']);
    expect(await snapshotCount(repo)).toBe(1);
    await resticOk(repo, ['check', '--read-data']);

    // A lock left by a crashed client: `unlock --remove-all` deletes it over DELETE /locks/.
    const lock = makeObject(100);
    await run(url, [{ req: post(`/family/laptop/locks/${lock.id}`, lock.data), want: [code(200)] }]);
    await resticOk(repo, ['unlock', '--remove-all']);
    expect(readdirSync(join(dataDir, 'family', 'laptop', 'locks'))).toEqual([]);

    // The disk is a plain restic local repository.
    const local = join(dataDir, 'family', 'laptop');
    expect(await snapshotCount(local)).toBe(1);
    await resticOk(local, ['check']);
  });

  it('in append-only mode accepts backups and refuses forget --prune', { timeout: 240_000 }, async () => {
    const { url } = await startServer({ appendOnly: true });
    const repo = `rest:${url}/kid/`;
    const source = makeSourceTree(4, 1 << 20);
    await resticOk(repo, ['init']);
    await resticOk(repo, ['backup', source]);
    await resticOk(repo, ['backup', source]);
    const refused = await restic(repo, ['forget', '--keep-last', '1', '--prune'], { timeoutMs: 200_000 });
    expect(refused.code).not.toBe(0);
    expect(await snapshotCount(repo)).toBe(2);
    await resticOk(repo, ['check']);
  });
});
