import { existsSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyRepositories, openCopySession, type CopyProgress } from '../../../../main/control/offsite/offsite-copy.js';
import { findRclone, type RcloneOptions } from '../../../../main/control/offsite/rclone.js';
import { makeObject } from '../../../helpers/http.js';
import { writeRepository } from '../../../helpers/repository.js';
import { makeSourceTree, restic, resticOk, treeDigest } from '../../../helpers/restic.js';
import { SshServer } from '../../../helpers/sshd.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

/** Two repositories made by restic (one two folders deep), with a lock and a temp file left behind. */
async function backedUp(): Promise<{ root: string; sources: Record<string, string> }> {
  const root = tempDir('rts-disk-');
  const sources: Record<string, string> = {};
  for (const repo of ['anna', 'family/old-pc']) {
    sources[repo] = makeSourceTree(4, 1 << 20);
    await resticOk(join(root, repo), ['init']);
    await resticOk(join(root, repo), ['backup', sources[repo] as string]);
  }
  const lock = makeObject(200);
  writeFileSync(join(root, 'anna', 'locks', lock.id), lock.data);
  writeFileSync(join(root, 'anna', 'data', '00', '.rts-tmp-0123456789abcdef'), 'half an upload');
  return { root, sources };
}

/** One copy in an rclone session of its own, as the app runs it. */
async function copyOnce(options: RcloneOptions & Parameters<typeof copyRepositories>[1] & { bandwidth?: string }): ReturnType<typeof copyRepositories> {
  const rclone = await openCopySession(options);
  try {
    return await copyRepositories(rclone, options);
  } finally {
    await rclone.close();
  }
}

async function restoresIdentically(repository: string, source: string, extra: string[] = []): Promise<void> {
  await resticOk(repository, [...extra, 'check', '--read-data']);
  const target = tempDir('rts-restore-');
  await resticOk(repository, [...extra, 'restore', 'latest', '--target', target]);
  expect(treeDigest(join(target, source))).toEqual(treeDigest(source));
}

describe.runIf(hasTool('rclone') && hasTool('restic'))('the offsite copy through rclone', () => {
  it('copies every repository to a folder in order, without locks or temp files; restic reads the copy; a pack cut off there is copied again, one changed on the disk never replaces the copy’s', { timeout: 120_000 }, async () => {
    const binary = (await findRclone(null)) as string;
    const { root, sources } = await backedUp();
    const copy = tempDir('rts-copy-');
    const configFile = join(tempDir('rts-config-'), 'rclone.conf');
    writeFileSync(configFile, '', { mode: 0o600 });
    const steps: string[] = [];
    const outcome = await copyOnce({
      binary,
      configFile,
      root,
      repos: ['anna', 'family/old-pc'],
      remote: copy,
      onProgress: (progress: CopyProgress) => {
        if (steps.at(-1) !== progress.step) steps.push(progress.step);
      },
    });
    expect(outcome).toMatchObject({ ok: true });
    expect(steps).toEqual(['config and keys', 'data', 'indexes', 'snapshots']);
    expect(existsSync(join(copy, 'anna', 'locks'))).toBe(false);
    expect(existsSync(join(copy, 'anna', 'data', '00', '.rts-tmp-0123456789abcdef'))).toBe(false);
    for (const [repo, source] of Object.entries(sources)) await restoresIdentically(join(copy, repo), source);

    // A pack that differs on the copy (cut off by a stopped copy, or rotted there) is copied again from the disk, where it is sound.
    const [pack] = readdirSync(join(copy, 'anna', 'data'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    const onCopy = join(pack!.parentPath, pack!.name);
    const sound = readFileSync(onCopy);
    writeFileSync(onCopy, sound.subarray(0, 1000));
    expect(await copyOnce({ binary, configFile, root, repos: ['anna'], remote: copy })).toMatchObject({ ok: true });
    expect(readFileSync(onCopy).equals(sound)).toBe(true);

    // A pack that changed on the disk (damage, ransomware) never replaces the copy's: an error to show.
    const onDisk = join(root, 'anna', 'data', pack!.name.slice(0, 2), pack!.name);
    writeFileSync(onDisk, 'not what it was');
    const refused = await copyOnce({ binary, configFile, root, repos: ['anna'], remote: copy });
    expect(refused).toMatchObject({ ok: false, stopped: false, problem: expect.stringMatching(/differs from the same file on the backup disk.*Nothing was overwritten/) });
    expect(readFileSync(onCopy).equals(sound)).toBe(true);
  });

  it('a copy stopped mid-file leaves a cut-off file there; the next copy replaces it and restic checks the copy clean', { timeout: 120_000 }, async () => {
    const binary = (await findRclone(null)) as string;
    const root = tempDir('rts-disk-');
    const source = makeSourceTree(2, 24 << 20);
    await resticOk(join(root, 'anna'), ['init']);
    await resticOk(join(root, 'anna'), ['backup', source]);
    const copy = tempDir('rts-copy-');
    const configFile = join(tempDir('rts-config-'), 'rclone.conf');
    writeFileSync(configFile, '', { mode: 0o600 });
    const stop = new AbortController();
    const stopped = await copyOnce({
      binary,
      configFile,
      root,
      repos: ['anna'],
      remote: copy,
      bandwidth: '10M',
      signal: stop.signal,
      onProgress: (progress) => {
        if (progress.step === 'data' && progress.stats.bytes > 4 << 20) stop.abort();
      },
    });
    expect(stopped).toMatchObject({ ok: false, stopped: true });
    const cut = readdirSync(join(copy, 'anna', 'data'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .filter((entry) => statSync(join(entry.parentPath, entry.name)).size !== statSync(join(root, 'anna', 'data', entry.name.slice(0, 2), entry.name)).size);
    expect(cut.length).toBeGreaterThan(0);
    expect(await copyOnce({ binary, configFile, root, repos: ['anna'], remote: copy })).toMatchObject({ ok: true });
    await restoresIdentically(join(copy, 'anna'), source);
  });

  it('a backup during a copy: its snapshot waits for the next copy, so the copy is always a repository restic checks clean', { timeout: 120_000 }, async () => {
    const binary = (await findRclone(null)) as string;
    const root = tempDir('rts-disk-');
    const first = makeSourceTree(2, 12 << 20);
    const second = makeSourceTree(2, 1 << 20);
    await resticOk(join(root, 'anna'), ['init']);
    await resticOk(join(root, 'anna'), ['backup', first]);
    const copy = tempDir('rts-copy-');
    const configFile = join(tempDir('rts-config-'), 'rclone.conf');
    writeFileSync(configFile, '', { mode: 0o600 });
    let backup: Promise<string> | undefined;
    const outcome = await copyOnce({
      binary,
      configFile,
      root,
      repos: ['anna'],
      remote: copy,
      bandwidth: '4M',
      onProgress: (progress) => {
        if (progress.step === 'data') backup ??= resticOk(join(root, 'anna'), ['backup', second]);
      },
    });
    expect(outcome).toMatchObject({ ok: true });
    await backup;
    const count = async () => (JSON.parse(await resticOk(join(copy, 'anna'), ['snapshots', '--json'])) as unknown[]).length;
    await resticOk(join(copy, 'anna'), ['check', '--read-data']);
    expect(await count()).toBe(1);
    expect(await copyOnce({ binary, configFile, root, repos: ['anna'], remote: copy })).toMatchObject({ ok: true });
    await restoresIdentically(join(copy, 'anna'), second);
    expect(await count()).toBe(2);
  });

  it.runIf(hasTool('sshd'))('copies to a relative’s computer over SFTP (real OpenSSH); restic reads it with sftp: and rclone:; a server that is off is said in words', { timeout: 120_000 }, async () => {
    const binary = (await findRclone(null)) as string;
    const { root, sources } = await backedUp();
    const ssh = await SshServer.start();
    const configFile = join(tempDir('rts-config-'), 'rclone.conf');
    writeFileSync(configFile, ssh.rcloneConfig('relative'), { mode: 0o600 });
    const remote = `relative:${ssh.folder}`;
    const outcome = await copyOnce({ binary, configFile, root, repos: ['anna', 'family/old-pc'], remote });
    expect(outcome).toMatchObject({ ok: true });
    await restoresIdentically(`sftp:root@127.0.0.1:${ssh.folder}/anna`, sources.anna as string, ['-o', `sftp.command=${ssh.sftpCommand()}`]);
    await restoresIdentically(`rclone:${remote}/family/old-pc`, sources['family/old-pc'] as string, ['-o', `rclone.program=${binary}`, '-o', `rclone.args=serve restic --stdio --config ${configFile}`]);

    // A second copy sends nothing new.
    const again = await copyOnce({ binary, configFile, root, repos: ['anna', 'family/old-pc'], remote });
    expect(again).toMatchObject({ ok: true, files: 0 });

    ssh.stop();
    const off = await copyOnce({ binary, configFile, root, repos: ['anna'], remote });
    expect(off).toMatchObject({ ok: false, stopped: false, problem: expect.stringMatching(/^The copy’s storage refused the connection/), details: expect.stringMatching(/connection refused/) });
    await ssh.resume();
    expect(await copyOnce({ binary, configFile, root, repos: ['anna'], remote })).toMatchObject({ ok: true });
    expect((await restic(`sftp:root@127.0.0.1:${ssh.folder}/anna`, ['-o', `sftp.command=${ssh.sftpCommand()}`, 'snapshots'])).code).toBe(0);
  });

  it.skipIf(process.platform === 'win32')('copies nothing that lies behind a link in the backup folder, and lists nothing there', { timeout: 60_000 }, async () => {
    const binary = (await findRclone(null)) as string;
    const root = tempDir('rts-disk-');
    const [pack] = writeRepository(root, 'anna', 1, 500);
    const outside = tempDir('rts-outside-');
    const secret = makeObject(100);
    writeFileSync(join(outside, secret.id), secret.data);
    rmSync(join(root, 'anna', 'index'), { recursive: true });
    symlinkSync(outside, join(root, 'anna', 'index'));
    symlinkSync(join(outside, secret.id), join(root, 'anna', 'snapshots', secret.id));
    const copy = tempDir('rts-copy-');
    const configFile = join(tempDir('rts-config-'), 'rclone.conf');
    writeFileSync(configFile, '', { mode: 0o600 });
    const outcome = await copyOnce({ binary, configFile, root, repos: ['anna'], remote: copy });
    expect(outcome).toMatchObject({ ok: true });
    expect([...outcome.listed].sort()).toEqual(['anna/config', `anna/data/${pack!.id.slice(0, 2)}/${pack!.id}`]);
    expect(readdirSync(copy, { recursive: true }).map(String).sort()).toEqual(['anna', 'anna/config', 'anna/data', `anna/data/${pack!.id.slice(0, 2)}`, `anna/data/${pack!.id.slice(0, 2)}/${pack!.id}`]);
  });
});

