import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RCLONE_CONFIG_FILE, writeSftpRemote } from '../../../../main/control/offsite/offsite-targets.js';
import { QUARANTINE_NAME } from '../../../../server/scrub/scrub.js';
import type { Controller } from '../../../../main/control/controller.js';
import { backedUpLaptop, clientHome, paste, servingController } from '../../../helpers/client-computer.js';
import { openServing, runBash, waitForState } from '../../../helpers/controller.js';
import { makeSourceTree, RESTIC_PASSWORD, resticOk, treeDigest } from '../../../helpers/restic.js';
import { SshServer } from '../../../helpers/sshd.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';
import { writeRepository } from '../../../helpers/repository.js';

/** A public key's fingerprint as `ssh-keygen -lf` prints it. */
const keygenFingerprint = (publicKey: string): string => (/ (SHA256:\S+) /.exec(execFileSync('ssh-keygen', ['-lf', publicKey], { encoding: 'utf8' }))?.[1] as string);

/** Asks for a copy and waits until the live log has counted `count` finished copies and none runs. */
function copier(controller: Controller) {
  const finishedCopies = async () => (await controller.recentSummaries()).filter((summary) => /^Offsite copy to .+ finished: /.test(summary.message)).length;
  return async (count: number) => {
    await controller.copyOffsiteNow();
    await expect.poll(finishedCopies, { timeout: 60_000 }).toBe(count);
    await waitForState(controller, (state) => state.offsite.running === null);
  };
}

describe.runIf(hasTool('rclone'))('the offsite copy in the app', () => {
  it('refuses a target inside the backup folder, and one rclone cannot write to, saying why; a fresh target is copied to by itself', { timeout: 60_000 }, async () => {
    const { controller, data, configDir } = await openServing({ tickMs: 100 });
    expect((await controller.getState()).offsite).toMatchObject({ rclone: expect.stringMatching(/rclone$/), installHint: null, target: null });
    await expect(controller.setOffsite({ remote: join(data, 'copy') })).rejects.toMatchObject({ code: 'copy-inside' });
    await expect(controller.setOffsite({ remote: 'nowhere:backups' })).rejects.toMatchObject({
      code: 'offsite-unusable',
      message: 'The copy cannot go there: rclone could not write a test file there. rclone’s configuration has no remote called “nowhere”: set it up with rclone config first, or give the configuration file that has it.',
    });
    await expect(controller.copyOffsiteNow()).rejects.toMatchObject({ code: 'no-offsite' });

    const copy = tempDir('rts-copy-');
    const set = await controller.setOffsite({ remote: copy, bandwidth: '50M' });
    expect(set.offsite.target).toEqual({ remote: copy, where: copy, bandwidth: '50M', rcloneConfig: null, graceDays: 30, nightOnly: false, warnAfterDays: 7 });
    const copied = await waitForState(controller, (state) => state.offsite.lastCopyAt !== null, 20_000);
    expect(copied.offsite.problem).toBeNull();
    expect((JSON.parse(readFileSync(join(configDir, 'settings.json'), 'utf8')) as { offsite: { remote: string } }).offsite.remote).toBe(copy);
    expect((await controller.removeOffsite()).offsite.target).toBeNull();
  });

  it('the copy’s rclone runs at a lower priority (nice 10), so that backups arriving meanwhile keep the processor', { timeout: 60_000 }, async () => {
    const { controller, data, configDir } = await openServing();
    writeRepository(data, 'family', 4, 1_000_000);
    await controller.setOffsite({ remote: tempDir('rts-copy-'), bandwidth: '500K' });
    await controller.copyOffsiteNow();
    let seen = '';
    while (seen === '') {
      seen = (await runBash(`ps -C rclone -o ni=,args= | grep -F -- ${JSON.stringify(join(configDir, RCLONE_CONFIG_FILE))} || true`, {})).stdout.trim();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).toMatch(/^10 \S*rclone rcd .*--bwlimit 500K/);
    expect((await controller.getState()).offsite.running).not.toBeNull();
    await controller.removeOffsite();
  });

  it('only at night when asked: no copy starts by itself at noon, Copy now still works, and one starts by itself at 23:00', { timeout: 60_000 }, async () => {
    let clock = new Date(2026, 11, 1, 12, 0).getTime();
    const { controller } = await openServing({ tickMs: 100, now: () => clock });
    const set = await controller.setOffsite({ remote: tempDir('rts-copy-'), nightOnly: true, warnAfterDays: 3 });
    expect(set.offsite.target).toMatchObject({ nightOnly: true, warnAfterDays: 3 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await controller.getState()).offsite.lastCopyAt).toBeNull();
    clock = new Date(2026, 11, 1, 23, 0).getTime();
    const copied = await waitForState(controller, (state) => state.offsite.lastCopyAt !== null, 20_000);
    expect(new Date(copied.offsite.lastCopyAt as string).getHours()).toBe(23);
  });

  it.runIf(hasTool('sshd') && hasTool('restic'))('copies a computer’s backups to an SFTP server; restic restores from the copy; the server switched off turns the status yellow until it is back', { timeout: 180_000 }, async () => {
    const { controller, configDir } = await servingController();
    const { anna, source, home } = await backedUpLaptop(controller);

    const ssh = await SshServer.start();
    writeFileSync(join(configDir, RCLONE_CONFIG_FILE), ssh.rcloneConfig('relative'), { mode: 0o600 });
    await controller.setOffsite({ remote: `relative:${ssh.folder}` });
    await controller.copyOffsiteNow();
    const copied = await waitForState(controller, (state) => state.offsite.lastCopyAt !== null && state.offsite.running === null, 60_000);
    expect(copied.offsite.problem).toBeNull();
    expect((await controller.recentSummaries()).map((summary) => summary.message).join('\n')).toContain(`Offsite copy to root@127.0.0.1:${ssh.port}${ssh.folder} finished: `);
    const sftp = ['-o', `sftp.command=${ssh.sftpCommand()}`];
    const repository = `sftp:root@127.0.0.1:${ssh.folder}/${anna.username}`;
    const target = tempDir('rts-restore-');
    // The encryption password is the computer's own: the copy needs none of its own.
    await resticOk(repository, [...sftp, 'restore', 'latest', '--target', target]);
    expect(treeDigest(join(target, source))).toEqual(treeDigest(source));

    // Anna's commands page says how to read the copy; run as given, with her SSH key standing in for her ~/.ssh/config.
    const fromCopy = (await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', backupPaths: [source] })).fromCopy;
    expect(fromCopy?.steps[0]?.command).toBe(`export RESTIC_REPOSITORY='sftp://root@127.0.0.1:${ssh.port}/${ssh.folder}/${anna.username}'`);
    const script = [`restic() { command restic -o "sftp.command=${ssh.sftpCommand()}" "$@"; }`, ...(fromCopy?.steps ?? []).map((step) => step.command)].join('\n');
    const read = await runBash(script, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(read.code, read.stderr).toBe(0);
    expect(treeDigest(join(home, 'restic-restore', source))).toEqual(treeDigest(source));

    ssh.stop();
    await controller.copyOffsiteNow();
    const failing = await waitForState(controller, (state) => state.offsite.problem !== null && state.offsite.running === null, 60_000);
    expect(failing.colour).toBe('yellow');
    expect(failing.sentence).toMatch(`The offsite copy did not work: The SFTP server at 127.0.0.1:${ssh.port} refused the connection: `);
    await ssh.resume();
    await controller.copyOffsiteNow();
    const back = await waitForState(controller, (state) => state.offsite.problem === null && state.offsite.running === null, 60_000);
    expect(back.colour).toBe('green');
  });

  it.runIf(hasTool('sshd'))('the SFTP form: the host key is shown as ssh prints it, checked again against the one confirmed and kept alone; the login goes into the app’s own rclone configuration (a password only obscured); a wrong port and a changed key are said in words', { timeout: 60_000 }, async () => {
    const { controller, configDir } = await openServing();
    const ssh = await SshServer.start();
    const fingerprint = keygenFingerprint(ssh.hostKeys[0] as string);
    expect(await controller.sftpHostKey({ host: '127.0.0.1', port: ssh.port })).toEqual({ host: '127.0.0.1', port: ssh.port, fingerprint, keyType: 'ED25519' });
    await expect(controller.sftpHostKey({ host: '127.0.0.1', port: ssh.port + 1 })).rejects.toMatchObject({ code: 'offsite-unreachable' });
    const form = { host: '127.0.0.1', port: ssh.port, hostKeyFingerprint: fingerprint, user: 'root', folder: ssh.folder };
    await expect(controller.setOffsiteSftp({ ...form, port: ssh.port + 1, keyFile: ssh.clientKey })).rejects.toMatchObject({ code: 'offsite-unreachable' });
    await expect(controller.setOffsiteSftp({ ...form, password: 'correct horse battery' })).rejects.toMatchObject({
      code: 'offsite-unusable',
      message: `The copy cannot go there: rclone could not write a test file there. The SFTP server at 127.0.0.1:${ssh.port} refused the login: check the user name and the password or key file (Change…).`,
    });
    // A key other than the one confirmed (the server showed another between the look and the save): refused in words, nothing kept.
    const other = keygenFingerprint(`${ssh.clientKey}.pub`);
    await expect(controller.setOffsiteSftp({ ...form, hostKeyFingerprint: other, keyFile: ssh.clientKey })).rejects.toMatchObject({
      code: 'offsite-host-key-changed',
      message: expect.stringContaining(`The SFTP server at 127.0.0.1:${ssh.port} now identifies itself with another key (${fingerprint}, ED25519) than the one you confirmed (${other}). Nothing was saved.`),
    });
    // A refused form leaves the configuration as it was: here, none.
    expect(existsSync(join(configDir, RCLONE_CONFIG_FILE))).toBe(false);
    expect(existsSync(join(configDir, 'offsite-known-hosts'))).toBe(false);
    const spare = tempDir('rts-config-');
    await writeSftpRemote('rclone', spare, { ...form, password: 'correct horse battery' });
    const obscured = /^pass = (\S+)$/m.exec(readFileSync(join(spare, RCLONE_CONFIG_FILE), 'utf8'))?.[1] ?? '';
    expect(obscured).not.toContain('correct horse battery');
    expect((await runBash(`rclone reveal -- '${obscured}'`, {})).stdout.trim()).toBe('correct horse battery');
    const set = await controller.setOffsiteSftp({ ...form, keyFile: ssh.clientKey });
    expect(set.offsite.target?.remote).toBe(`offsite-sftp:${ssh.folder}`);
    const written = readFileSync(join(configDir, RCLONE_CONFIG_FILE), 'utf8');
    expect(written.match(/\[offsite-sftp\]/g)).toHaveLength(1);
    expect(written).toContain(`known_hosts_file = ${join(configDir, 'offsite-known-hosts')}`);
    expect(statSync(join(configDir, RCLONE_CONFIG_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(configDir, 'offsite-known-hosts'), 'utf8')).toBe(`[127.0.0.1]:${ssh.port} ${readFileSync(ssh.hostKeys[0] as string, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  });

  it.runIf(hasTool('sshd'))('a server with ED25519, ECDSA and RSA host keys: the key shown, checked and kept is the ECDSA one rclone asks for, and the target works with it alone', { timeout: 60_000 }, async () => {
    const { controller, configDir } = await openServing();
    const ssh = await SshServer.start(['ed25519', 'ecdsa', 'rsa']);
    const key = await controller.sftpHostKey({ host: '127.0.0.1', port: ssh.port });
    expect(key).toMatchObject({ fingerprint: keygenFingerprint(ssh.hostKeys[1] as string), keyType: 'ECDSA' });
    const set = await controller.setOffsiteSftp({ host: '127.0.0.1', port: ssh.port, hostKeyFingerprint: key.fingerprint, user: 'root', keyFile: ssh.clientKey, folder: ssh.folder });
    expect(set.offsite.target?.remote).toBe(`offsite-sftp:${ssh.folder}`);
    expect(readFileSync(join(configDir, 'offsite-known-hosts'), 'utf8')).toMatch(/^\[127\.0\.0\.1\]:\d+ ecdsa-sha2-nistp256 \S+\n$/);
  });

  it('a damaged object that the offsite copy holds whole is put back from it: nothing waits for a repair', { timeout: 60_000 }, async () => {
    const { controller, data } = await openServing();
    const objects = writeRepository(data, 'family', 4, 100_000);
    await controller.setOffsite({ remote: tempDir('rts-copy-') });
    await controller.copyOffsiteNow();
    await waitForState(controller, (state) => state.offsite.lastCopyAt !== null && state.offsite.running === null, 30_000);

    const [damaged] = objects as [{ id: string; data: Buffer; path: string }];
    const file = damaged.path;
    writeFileSync(file, 'rotten');
    await controller.checkIntegrity();
    const checked = await waitForState(controller, (state) => state.integrity.running === null && state.integrity.disks[0]?.lastCheckedAt !== null, 30_000);
    expect(checked.integrity.disks[0]?.damaged).toBe(1);
    expect(checked.integrity.awaitingRepair).toEqual([]);
    expect(readFileSync(file).equals(damaged.data)).toBe(true);
    expect(readFileSync(join(data, QUARANTINE_NAME, 'family', 'data', damaged.id.slice(0, 2), damaged.id), 'utf8')).toBe('rotten');
    expect((await controller.recentSummaries()).map((summary) => summary.message).join('\n')).toMatch(
      new RegExp(`the damaged file data/${damaged.id.slice(0, 2)}/${damaged.id} of the repository /family/ was put back whole from the offsite copy`),
    );
    expect(checked.colour).toBe('green');
  });

  it.runIf(hasTool('restic'))('deletions wait: after a prune the copy keeps the pruned snapshot for the grace period (restic restores it from there), then deletes it too', { timeout: 180_000 }, async () => {
    let clock = Date.now();
    const { controller } = await servingController({ now: () => clock });
    const anna = await controller.addComputer({ displayName: "Anna's laptop", appendOnly: false });
    const home = await clientHome(controller);
    const first = makeSourceTree(3, 1 << 20);
    const second = makeSourceTree(3, 1 << 20);
    const linesFor = (source: string) => controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', password: anna.password, backupPaths: [source] });
    const one = await linesFor(first);
    await paste(one, 'init', home);
    await paste(one, 'backup', home);
    await paste(await linesFor(second), 'backup', home);

    const copy = tempDir('rts-copy-');
    await controller.setOffsite({ remote: copy });
    const copyAndWait = copier(controller);
    await copyAndWait(1);
    const onCopy = join(copy, anna.username);
    const snapshots = async (repository: string) => JSON.parse(await resticOk(repository, ['snapshots', '--json'])) as { id: string; paths: string[] }[];
    const firstSnapshot = (await snapshots(onCopy)).find((snapshot) => snapshot.paths.includes(first)) as { id: string };

    // The computer prunes: only the newest snapshot stays on the disk.
    const prune = one.commands.snapshots.command.replace('restic snapshots', 'restic forget --group-by host --keep-last 1 --prune');
    const pruned = await runBash(`${one.setup}\n${prune}`, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(pruned.code, pruned.stderr).toBe(0);
    await copyAndWait(2);
    expect((await snapshots(onCopy)).map((snapshot) => snapshot.id)).toContain(firstSnapshot.id);
    const target = tempDir('rts-restore-');
    await resticOk(onCopy, ['restore', firstSnapshot.id, '--target', target]);
    expect(treeDigest(join(target, first))).toEqual(treeDigest(first));

    // 31 days later the grace period is over.
    clock += 31 * 86_400_000;
    await copyAndWait(3);
    expect((await controller.recentSummaries()).map((summary) => summary.message).join('\n')).toMatch(/Offsite copy: \d+ files deleted on the backup disk over 30 days ago were deleted on the copy too\./);
    expect((await snapshots(onCopy)).map((snapshot) => snapshot.paths)).toEqual([[second]]);
    await resticOk(onCopy, ['check', '--read-data']);
  });

  it.runIf(hasTool('restic'))('with two disks taking turns, the copy is made from the disk that is in, and none of the other disk’s files counts as deleted: after the grace period the copy still holds the snapshots of both', { timeout: 180_000 }, async () => {
    let clock = Date.now();
    const { controller, configDir } = await servingController({ now: () => clock });
    const { anna, home, lines, source } = await backedUpLaptop(controller, 2);
    const homeDisk = (await controller.getState()).disks[0]?.id as string;
    const copy = tempDir('rts-copy-');
    await controller.setOffsite({ remote: copy });
    const copyAndWait = copier(controller);
    await copyAndWait(1);

    // The Away disk comes in: the computer backs up to it, and it is copied.
    const away = tempDir('rts-away-');
    await controller.chooseFolder({ path: away, label: 'Away disk' });
    await waitForState(controller, (state) => state.storage?.label === 'Away disk' && state.status !== 'starting');
    writeFileSync(join(source, 'new.txt'), 'written while the Away disk was in\n');
    await paste(lines, 'backup', home);
    await copyAndWait(2);
    const journal = () => JSON.parse(readFileSync(join(configDir, 'offsite-journal.json'), 'utf8')) as { disks: Record<string, Record<string, string>> };
    expect(Object.values(journal().disks).flatMap((files) => Object.keys(files))).toEqual([]);

    // Past the grace period, from each disk in turn: nothing either disk holds leaves the copy.
    clock += 31 * 86_400_000;
    await copyAndWait(3);
    await controller.chooseFolder({ path: (await controller.getState()).disks.find((disk) => disk.id === homeDisk)?.folder as string });
    await waitForState(controller, (state) => state.storage?.diskId === homeDisk && state.status !== 'starting');
    await copyAndWait(4);
    expect(Object.values(journal().disks).flatMap((files) => Object.keys(files))).toEqual([]);
    const onCopy = join(copy, anna.username);
    const snapshots = JSON.parse(await resticOk(onCopy, ['snapshots', '--json'])) as unknown[];
    expect(snapshots).toHaveLength(2);
    await resticOk(onCopy, ['check', '--read-data']);
  });

  it.runIf(hasTool('restic'))('a new disk after the old one died is rebuilt from the copy: restic restores through the server, and the integrity check that follows is clean', { timeout: 180_000 }, async () => {
    const { controller } = await servingController();
    const { source, home, lines } = await backedUpLaptop(controller, 3);
    await controller.setOffsite({ remote: tempDir('rts-copy-') });
    await controller.copyOffsiteNow();
    await waitForState(controller, (state) => state.offsite.lastCopyAt !== null && state.offsite.running === null, 60_000);

    // The old disk is gone; a new, empty one is chosen and filled from the copy.
    await controller.chooseFolder({ path: tempDir('rts-new-disk-') });
    const fresh = await waitForState(controller, (state) => state.status === 'serving' || state.status === 'attention');
    const newDisk = fresh.disks.find((disk) => disk.current)?.id;
    await controller.rebuildFromCopy();
    const rebuilt = await waitForState(
      controller,
      (state) => state.offsite.running === null && state.integrity.running === null && state.integrity.disks.find((disk) => disk.diskId === newDisk)?.lastCheckedAt != null,
      120_000,
    );
    expect(rebuilt.integrity.disks.find((disk) => disk.diskId === newDisk)?.damaged).toBe(0);
    expect((await controller.recentSummaries()).map((summary) => summary.message).join('\n')).toMatch(/was rebuilt from the offsite copy: .+ in \d+ files; an integrity check follows\./);
    expect(await paste(lines, 'snapshots', home)).toContain(source);
    await paste(lines, 'restore', home);
    expect(treeDigest(join(home, 'restic-restore', source))).toEqual(treeDigest(source));
  });
});
