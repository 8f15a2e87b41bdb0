import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash, waitForState } from '../../../helpers/controller.js';
import { treeDigest } from '../../../helpers/restic.js';
import { makeCertificates } from '../../../helpers/certs.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

/** A family computer's home folder with some documents to back up. */
function familyHome(): string {
  const home = tempDir('rts-home-');
  mkdirSync(join(home, 'Documents', 'school'), { recursive: true });
  writeFileSync(join(home, 'Documents', 'school', 'essay.txt'), 'Why backups matter.\n'.repeat(500));
  writeFileSync(join(home, 'Documents', 'photo.jpg'), Buffer.alloc(300_000, 7));
  return home;
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** The line's fetch alone (its printf and curl, without sh), with more curl options. */
const fetchOnly = (line: string, options: string) => line.replace(/^\( (.+ -K -) \|\| echo .+\) \| sh$/, `$1 ${options}`);

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('connecting a computer with one line', () => {
  it('the Linux line: restic 0.14 set up in a folder only the user reads, the first backup, a schedule, a status; run again after a password reset it updates the login and does not re-create the repository; a new LAN address is noticed', { timeout: 180_000 }, async () => {
    const { controller, lan } = await servingController({ tickMs: 200 });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const { line, expiresAt } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    expect(line).toMatch(/^\( printf '%s\\n' 'url = "https:\/\/[\d.]+:\d+\/\.connect\/[a-z2-9]{20}\/sh"' \| curl -sS --insecure --pinnedpubkey 'sha256\/\/[A-Za-z0-9+/]{43}=' -K - \|\| echo '.+' \) \| sh$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);

    const home = familyHome();
    const said: string[] = [];
    controller.on('summary', (summary) => said.push(summary.message));
    const first = await runInTerminal(line, home, ['family-secret-1', 'family-secret-1', 'n']);
    expect(first.code, first.output).toBe(0);
    // The script's look for the server's address logs in: nothing in the live log looks like an attack.
    expect(said.filter((message) => /refused/i.test(message))).toEqual([]);
    expect(first.output).toContain("The backup repository of Anna's laptop was created on the server.");
    expect(first.output).toMatch(/Done: Anna's laptop backs up to the server\./);
    // The script said what it found, through the address it chose (the test host's name resolves nowhere).
    expect((await controller.getState()).computers[0]).toMatchObject({ system: 'linux', resticVersion: '0.14.0', connectedAt: expect.any(String) });

    const dir = join(home, '.config', 'restic-tray-server');
    expect(modeOf(dir)).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual(['ca.pem', 'last-good', 'last-run', 'login', 'password', 'paths', 'repository', 'restic-tray-backup', 'settings']);
    for (const file of ['ca.pem', 'login', 'password', 'paths', 'repository', 'settings']) expect([file, modeOf(join(dir, file))]).toEqual([file, 0o600]);
    expect(readFileSync(join(dir, 'password'), 'utf8')).toBe('family-secret-1');
    // restic 0.14 takes the login inside the address, read from the file, never from a command line.
    expect(readFileSync(join(dir, 'repository'), 'utf8')).toMatch(new RegExp(`^rest:https://${anna.username}:[\\w-]+@[^/]+/${anna.username}/\\n$`));
    expect(readFileSync(join(dir, 'repository'), 'utf8')).not.toContain(anna.password);

    const status = await runBash('restic-tray-backup status', { HOME: home, PATH: `${join(home, '.local', 'bin')}:${process.env.PATH ?? ''}` });
    expect(status.stdout).toMatch(/^Last backup: .+: ok$/m);
    const units = join(home, '.config', 'systemd', 'user');
    if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0) {
      expect(readFileSync(join(units, 'restic-tray-backup.timer'), 'utf8')).toContain('Persistent=true');
      const verified = await runBash(`systemd-analyze verify ${join(units, 'restic-tray-backup.timer')} ${join(units, 'restic-tray-backup.service')}`, { HOME: home });
      expect(verified.code, verified.stderr).toBe(0);
    }

    // A password reset stops the old login; a new line brings the new one and keeps everything else.
    await controller.resetPassword({ username: anna.username });
    const again = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const second = await runInTerminal(again.line, home);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain("The backups of Anna's laptop are already on the server: they go on from there.");
    expect(readFileSync(join(dir, 'password'), 'utf8')).toBe('family-secret-1');
    const snapshots = await runInTerminal(`restic-tray-backup snapshots`, home);
    expect(snapshots.output).toMatch(/2 snapshots/);
    const restored = tempDir('rts-restore-');
    const restore = await runBash(`. "${dir}/settings"; export RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE; restic --cacert "${dir}/ca.pem" restore latest --target "${restored}"`, { HOME: home, RESTIC_CACHE_DIR: join(home, '.cache', 'restic') });
    expect(restore.code, restore.stderr).toBe(0);
    expect(treeDigest(join(restored, home, 'Documents'))).toEqual(treeDigest(join(home, 'Documents')));

    // Each line works once.
    const reused = await runInTerminal(line, tempDir('rts-home-'));
    expect(reused.output).toContain('This set-up line was used already');
    expect(reused.code).not.toBe(0);

    // The encryption password's file lost and a new one chosen: the line says why it cannot go on, and changes nothing on the server.
    rmSync(join(dir, 'password'));
    const lost = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const refused = await runInTerminal(lost.line, home, ['another-secret', 'another-secret', 'n']);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`Restic Tray Server: the backups of Anna's laptop are on the server, but the encryption password in ${dir}/password does not open them`);
    writeFileSync(join(dir, 'password'), 'family-secret-1');
    expect((await runInTerminal(`restic-tray-backup snapshots`, home)).output).toMatch(/2 snapshots/);

    // The router hands the desktop a new address: Anna's laptop, set up with the old one, is named.
    lan.splice(0, lan.length, '127.0.0.3');
    const moved = await waitForState(controller, (state) => state.notices.some((notice) => notice.message.startsWith("Anna's laptop was set up to reach this server at 127.0.0.2")), 10_000);
    expect(moved.notices.map((notice) => notice.message).join('\n')).toContain('which this computer no longer has (now 127.0.0.3): its backups stop. Run a new line there');
  });

  it('a line expires after 15 minutes; wrong codes get slower answers; another server (another key) is refused by the pin before anything runs, and the line ends non-zero saying so', { timeout: 120_000 }, async () => {
    let clock = Date.now();
    const { controller } = await servingController({ now: () => clock });
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    clock += 16 * 60_000;
    const expired = await runInTerminal(line, tempDir('rts-home-'));
    expect(expired.output).toContain('This set-up line expired');

    const wrong = fetchOnly(line.replace(/\/\.connect\/[a-z2-9]+\//, '/.connect/aaaaaaaaaaaaaaaaaaaa/'), '-o /dev/null -w "%{http_code} %{time_total}"');
    const answers: [number, number][] = [];
    for (let i = 0; i < 4; i++) {
      const ran = await runBash(wrong, {});
      const [status, seconds] = ran.stdout.split(' ');
      answers.push([Number(status), Number(seconds)]);
    }
    expect(answers.map(([status]) => status)).toEqual([404, 404, 404, 404]);
    // The expired try counted too: at least 500 ms, 1 s, 2 s, 4 s.
    answers.forEach(([, seconds], i) => expect(seconds).toBeGreaterThanOrEqual(0.5 * 2 ** i));

    // What the script reports is taken only when it is a system the app knows and a version.
    const reporting = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const fetchLine = fetchOnly(reporting.line, '-o /dev/null');
    expect((await runBash(fetchLine, {})).code).toBe(0);
    const report = fetchLine.replace(/\/sh"'/, `/report/constructor/1.2.3"'`);
    expect((await runBash(report, {})).code).toBe(0);
    expect((await controller.getState()).computers[0]).toMatchObject({ system: null, resticVersion: '1.2.3' });

    // A server on the network with a certificate of its own, answering the same path with a script.
    const certificates = makeCertificates('Impostor');
    const impostor = createServer({ cert: readFileSync(certificates.certFile), key: readFileSync(certificates.keyFile) }, (_req, res) => res.end('echo pwned > "$HOME/pwned"\n'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const fresh = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const home = tempDir('rts-home-');
    const redirected = fresh.line.replace(/https:\/\/[^/]+\//, `https://127.0.0.1:${(impostor.address() as AddressInfo).port}/`);
    const refused = await runInTerminal(redirected, home);
    impostor.close();
    expect(refused.output).toMatch(/public key does not match pinned public key/);
    // Not an empty script that sh runs with success: the line ends non-zero, saying what happened and what to do.
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(
      'Restic Tray Server: the backup server could not be verified (its certificate is not the one this line expects, or it did not answer): make a new line in the app on the backup desktop (the computer page, Connect this computer) and check the address it shows.',
    );
    expect(readdirSync(home)).toEqual([]);
  });

  it('the set-up file for a USB stick: run with sh it sets the computer up the same way; making it replaced the server password at once; one made before a password reset says its login is refused', { timeout: 120_000 }, async () => {
    const { controller } = await servingController();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const file = await controller.setupFile({ username: anna.username, os: 'linux' });
    expect(file.fileName).toBe('restic-tray-setup-anna.sh');
    expect(file.content).toContain((await controller.caCertificate()).pem.trim());
    const ca = join(tempDir('rts-ca-'), 'ca.pem');
    writeFileSync(ca, (await controller.caCertificate()).pem);
    const url = (await controller.getState()).clientUrl ?? '';
    const oldLogin = await runBash(`curl -s -o /dev/null -w '%{http_code}' --cacert ${ca} -u ${anna.username}:${anna.password} ${url}${anna.username}/config`, {});
    expect(oldLogin.stdout).toBe('401');

    const stick = tempDir('rts-usb-');
    writeFileSync(join(stick, file.fileName), file.content);
    const home = familyHome();
    // Enter at the password's question: one is made and shown once, with nothing else said about how it was made,
    // even in a terminal that ignores SIGPIPE (some do: there a pipe's writer is told "Broken pipe" instead of ended).
    const ran = await runInTerminal(`trap '' PIPE; sh ${join(stick, file.fileName)}`, home, ['', '', 'n']);
    expect(ran.code, ran.output).toBe(0);
    const made = /Your encryption password is: +(\S+)/.exec(ran.output)?.[1];
    expect(made).toMatch(/^([a-z2-9]{4}-){5}[a-z2-9]{4}$/);
    expect(readFileSync(join(home, '.config', 'restic-tray-server', 'password'), 'utf8')).toBe(made);
    expect(ran.output).not.toMatch(/write error|Broken pipe/i);
    const state = await waitForState(controller, (one) => one.computers[0]?.snapshots === 1 && one.computers[0].system === 'linux', 30_000);
    expect(state.computers[0]?.resticVersion).toBe('0.14.0');

    // A file made, then the server password reset before it ran (the file carries the password it was made with): it says so.
    const stale = await controller.setupFile({ username: anna.username, os: 'linux' });
    await controller.resetPassword({ username: anna.username });
    writeFileSync(join(stick, stale.fileName), stale.content);
    const denied = await runInTerminal(`sh ${join(stick, stale.fileName)}`, home);
    expect(denied.code, denied.output).toBe(1);
    expect(denied.output).toContain('Restic Tray Server: the backup server refused the login this set-up carries');
  });
});
