import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { htpasswdFile } from '../helpers/htpasswd.js';
import { makeSourceTree, restic, resticOk, snapshotCount } from '../helpers/restic.js';
import { startServer } from '../helpers/running-server.js';
import { hasTool } from '../helpers/tools.js';

const repoAs = (url: string, user: string, password: string, repo: string) =>
  `rest:${url.replace('http://', `http://${user}:${password}@`)}/${repo}/`;

describe.skipIf(!hasTool('restic') || !hasTool('htpasswd'))('real restic with users', () => {
  it.concurrent('backs up as users of each htpasswd format; a wrong password gets nowhere', { timeout: 200_000 }, async () => {
    const file = htpasswdFile([
      ['bcrypt', 'pw1', 'B'],
      ['sha', 'pw2', 's'],
      ['md5', 'pw3', 'm'],
    ]);
    const { url, dataDir } = await startServer({ noAuth: false, htpasswdFile: file, privateRepos: true });
    const source = makeSourceTree(2, 256 << 10);
    for (const [user, password] of [
      ['bcrypt', 'pw1'],
      ['sha', 'pw2'],
      ['md5', 'pw3'],
    ] as const) {
      const repo = repoAs(url, user, password, user);
      await resticOk(repo, ['init']);
      await resticOk(repo, ['backup', source]);
      expect(await snapshotCount(repo)).toBe(1);
    }
    const wrong = await restic(repoAs(url, 'bcrypt', 'not-it', 'intruder'), ['init'], { timeoutMs: 180_000 });
    expect(wrong.code).not.toBe(0);
    expect(existsSync(join(dataDir, 'intruder'))).toBe(false);
  });

  it.concurrent('forget --prune fails for an append-only family user and works for the maintenance user', { timeout: 200_000 }, async () => {
    const file = htpasswdFile([
      ['kid', 'k'],
      ['admin', 'm'],
    ]);
    const users = new Map([
      ['kid', { appendOnly: true }],
      ['admin', { maintenance: true }],
    ]);
    const { url } = await startServer({ noAuth: false, htpasswdFile: file, privateRepos: true, users });
    const kid = repoAs(url, 'kid', 'k', 'kid');
    const admin = repoAs(url, 'admin', 'm', 'kid');
    const source = makeSourceTree(3, 512 << 10);
    await resticOk(kid, ['init']);
    await resticOk(kid, ['backup', source]);
    await resticOk(kid, ['backup', source]);
    const refused = await restic(kid, ['forget', '--keep-last', '1', '--prune'], { timeoutMs: 180_000 });
    expect(refused.code).not.toBe(0);
    expect(await snapshotCount(kid)).toBe(2);
    await resticOk(admin, ['unlock']);
    await resticOk(admin, ['forget', '--keep-last', '1', '--prune']);
    expect(await snapshotCount(kid)).toBe(1);
    await resticOk(kid, ['check', '--read-data']);
  });
});
