import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../../main/common/format-bytes.js';
import type { Summary } from '../../../../main/contract.js';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash } from '../../../helpers/controller.js';
import { RESTIC_PASSWORD, resticOk } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { FakeUsbDisk } from '../../../helpers/tmpfs.js';
import { runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

const PASSWORD = 'anna-secret-1';

/** The old laptop's home: documents, photos, a hidden file, an empty folder, and a .bashrc a new laptop has too. */
function oldLaptopHome(): string {
  const home = tempDir('rts-home-');
  mkdirSync(join(home, 'Documents', 'deep'), { recursive: true });
  mkdirSync(join(home, 'Pictures'));
  mkdirSync(join(home, 'Music'));
  writeFileSync(join(home, 'Documents', 'letter.txt'), 'Dear grandma,\n');
  writeFileSync(join(home, 'Documents', 'deep', 'photo.jpg'), randomBytes(1_500_000));
  writeFileSync(join(home, 'Pictures', 'holiday 2025.jpg'), randomBytes(1_000_000));
  writeFileSync(join(home, '.hidden-notes'), 'the old laptop’s notes\n');
  writeFileSync(join(home, '.bashrc'), 'alias ll="ls -l"  # the old laptop\n');
  return home;
}

/** The files a backup of this home holds: every regular file but those the installed command leaves out (the cache, its own folder). */
function backedUpFiles(home: string): string[] {
  return readdirSync(home, { recursive: true, encoding: 'utf8' })
    .filter((path) => !path.startsWith('.cache') && !path.startsWith(join('.config', 'restic-tray-server')))
    .filter((path) => lstatSync(join(home, path), { throwIfNoEntry: false })?.isFile())
    .sort();
}

/** A home whose curl and restic (first on PATH) write down every call's arguments, then run the real programs. */
async function homeRecordingArguments(): Promise<{ home: string; calls: () => string }> {
  const home = tempDir('rts-home-');
  const bin = join(home, '.local', 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(tempDir('rts-argv-'), 'calls');
  writeFileSync(log, '');
  for (const program of ['curl', 'restic']) {
    const real = (await runBash(`command -v ${program}`, {})).stdout.trim();
    writeFileSync(join(bin, program), `#!/bin/sh\nprintf '%s\\n' "${program} $*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, program), 0o755);
  }
  return { home, calls: () => readFileSync(log, 'utf8') };
}

/** The repository's ID, as restic reads it with `env` (a repository and its password). */
async function repositoryId(script: string, env: Record<string, string>): Promise<string> {
  const ran = await runBash(`${script} cat config --no-lock`, env);
  return (JSON.parse(ran.stdout) as { id: string }).id;
}

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('the new-computer line, for a computer whose encryption password is kept', () => {
  it('in a new home it restores the newest backup under that home, never over a file already there, says what it restored and what it left where, then backs up as the same computer into the same repository; the line works once, for 15 minutes, never without a kept password, and the password is in no argument and no log; a failed restore ends with one sentence, nothing backed up, the connection usable', { timeout: 400_000 }, async () => {
    let clock = Date.now();
    const { controller, configDir } = await servingController({ now: () => clock });
    const said: Summary[] = [];
    controller.on('summary', (summary) => said.push(summary));
    const requests: string[] = [];
    controller.on('requests', (batch) => requests.push(JSON.stringify(batch)));
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const notKept = { code: 'not-kept', message: expect.stringContaining('Keep it first: Looking after the backups, Keep the encryption password') };
    await expect(controller.newLaptopLine({ username: anna.username, os: 'linux' })).rejects.toMatchObject(notKept);

    // The old laptop, connected by its line (the password not kept there), backs up once more as it would every day.
    const old = oldLaptopHome();
    const connected = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, old, [PASSWORD, PASSWORD, 'n']);
    expect(connected.code, connected.output).toBe(0);
    expect((await runInTerminal('restic-tray-backup backup', old)).code).toBe(0);
    await expect(controller.newLaptopLine({ username: anna.username, os: 'linux' })).rejects.toMatchObject(notKept);
    await controller.keepPassword({ username: anna.username, password: PASSWORD });
    const backedUp = backedUpFiles(old);
    expect(backedUp).toContain('.bashrc');
    const before = await controller.listSnapshots({ username: anna.username });
    const repo = join((await controller.getState()).storage?.folder as string, anna.username);
    const desktopId = await repositoryId(`restic -r '${repo}'`, { RESTIC_PASSWORD: PASSWORD });

    // The new laptop has its own .bashrc and a document of its own.
    const { home, calls } = await homeRecordingArguments();
    writeFileSync(join(home, '.bashrc'), '# the new laptop’s own\n');
    mkdirSync(join(home, 'Documents'));
    writeFileSync(join(home, 'Documents', 'new.txt'), 'written on the new laptop\n');
    const made = await controller.newLaptopLine({ username: anna.username, os: 'linux' });
    expect(made.backup).toEqual({ time: before[0]?.time, host: before[0]?.host });
    expect(made.needsRestic).toBe('0.14');
    expect(Date.parse(made.expiresAt) - clock).toBe(15 * 60_000);
    expect(made.line).toMatch(/^\( printf '%s\\n' 'url = "https:\/\/[^"]+\/\.connect\/[a-z2-9]{20}\/sh"' \| curl /);

    const ran = await runInTerminal(made.line, home);
    expect(ran.code, ran.output).toBe(0);
    // Every backed-up file is under the new home, byte for byte, but the .bashrc the new laptop had, which stays its own.
    // (The schedule's unit files came back too, and were then written again for this home, as the set-up does.)
    for (const path of backedUp.filter((path) => path !== '.bashrc' && !path.startsWith(join('.config', 'systemd')))) {
      expect(readFileSync(join(home, path)).equals(readFileSync(join(old, path))), path).toBe(true);
    }
    expect(statSync(join(home, 'Music')).isDirectory()).toBe(true);
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toBe('# the new laptop’s own\n');
    expect(readFileSync(join(home, 'Documents', 'new.txt'), 'utf8')).toBe('written on the new laptop\n');
    // The old .bashrc waits in the restore folder, under the old home's path, and the summary says so.
    const staging = join(home, `restic-restore-${new Date().toISOString().slice(0, 10)}`);
    expect(readFileSync(join(staging, old, '.bashrc'), 'utf8')).toBe(readFileSync(join(old, '.bashrc'), 'utf8'));
    const movedBytes = backedUp.filter((path) => path !== '.bashrc').reduce((sum, path) => sum + statSync(join(old, path)).size, 0);
    expect(ran.output).toContain(`Restored ${backedUp.length - 1} files (${formatBytes(movedBytes)}) into ${home}.`);
    expect(ran.output).toContain(
      `Not moved in, because something of the same name was already there (or it was not in the home folder of Anna's laptop): 1 file (${formatBytes(statSync(join(old, '.bashrc')).size)}), in ${staging}.`,
    );
    // The restore came before the set-up's first backup.
    expect(ran.output.indexOf('Restored ')).toBeLessThan(ran.output.indexOf('The first backup starts now'));
    expect(ran.output).toContain("Done: Anna's laptop backs up to the server.");

    // It is the same computer: its kept password in a file only it reads, the installed command backing up into the same repository.
    const dir = join(home, '.config', 'restic-tray-server');
    expect(readFileSync(join(dir, 'password'), 'utf8')).toBe(PASSWORD);
    expect(statSync(join(dir, 'password')).mode & 0o777).toBe(0o600);
    const afterSetUp = await controller.listSnapshots({ username: anna.username });
    expect(afterSetUp).toHaveLength(before.length + 1);
    expect(afterSetUp[0]?.paths).toEqual([home]);
    const backup = await runInTerminal('restic-tray-backup backup', home);
    expect(backup.code, backup.output).toBe(0);
    expect(await controller.listSnapshots({ username: anna.username })).toHaveLength(before.length + 2);
    const installed = `. '${dir}/settings'; export RESTIC_REPOSITORY_FILE RESTIC_PASSWORD_FILE; restic --cacert '${dir}/ca.pem'`;
    expect(await repositoryId(installed, { HOME: home, RESTIC_CACHE_DIR: join(home, '.cache', 'restic') })).toBe(desktopId);
    const checked = await runInTerminal('restic-tray-backup check', home);
    expect(checked.output).toContain('no errors were found');
    expect(checked.code).toBe(0);

    // The kept password went to no program's arguments, and into no log or state.
    expect(calls()).toMatch(/^restic .*restore [0-9a-f]{64} --target /m);
    expect(calls()).not.toContain(PASSWORD);
    expect(ran.output).not.toContain(PASSWORD);
    const logs = [JSON.stringify(said), requests.join('\n'), JSON.stringify(await controller.recentSummaries()), JSON.stringify(await controller.recentRequests({})), JSON.stringify(await controller.getState())];
    for (const log of logs) expect(log).not.toContain(PASSWORD);
    expect(readFileSync(join(configDir, 'settings.json'), 'utf8')).not.toContain(PASSWORD);
    expect(said.map((summary) => summary.message).join('\n')).toMatch(/A new computer fetched the set-up of Anna's laptop \(from .+\): it restores the backup of /);

    // The line works once; a new one expires after 15 minutes.
    const again = await runInTerminal(made.line, tempDir('rts-home-'));
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('This set-up line was used already: each line works once. Make a new one in the app (the computer’s page, Restore, Set up a new computer with these files).');
    const late = await controller.newLaptopLine({ username: anna.username, os: 'linux' });
    clock += 15 * 60_000 + 1000;
    const expired = await runInTerminal(late.line, tempDir('rts-home-'));
    expect(expired.code).not.toBe(0);
    expect(expired.output).toContain('This set-up line expired (each works for 15 minutes): make a new one in the app (the computer’s page, Restore, Set up a new computer with these files).');

    // restic too old for these compressed backups: said before anything is written there.
    const older = tempDir('rts-home-');
    mkdirSync(join(older, '.local', 'bin'), { recursive: true });
    const real = (await runBash('command -v restic', {})).stdout.trim();
    writeFileSync(join(older, '.local', 'bin', 'restic'), `#!/bin/sh\nif [ "$1" = version ]; then echo 'restic 0.13.1 compiled with go1.18 on linux/amd64'; exit 0; fi\nexec '${real}' "$@"\n`);
    chmodSync(join(older, '.local', 'bin', 'restic'), 0o755);
    const tooOld = await runInTerminal((await controller.newLaptopLine({ username: anna.username, os: 'linux' })).line, older);
    expect(tooOld.code).not.toBe(0);
    expect(tooOld.output).toContain("Restic Tray Server: restic 0.13 on this computer is too old to read the backups of Anna's laptop (they need restic 0.14 or newer): install a newer restic (restic.net), then make a new line in the app");
    expect(existsSync(join(older, '.config'))).toBe(false);

    // A restore that fails (the chosen folder is on a disk of 1 MiB): one sentence, nothing backed up, no schedule, the settings usable.
    const small = new FakeUsbDisk(1);
    const failing = await controller.newLaptopLine({ username: anna.username, os: 'linux', target: small.mountPoint });
    const third = tempDir('rts-home-');
    const failed = await runInTerminal(failing.line, third);
    expect(failed.code).not.toBe(0);
    expect(failed.output).toContain('no space left on device');
    expect(failed.output).toMatch(/Restic Tray Server: the files could not be restored \(restic's message is above; what arrived is in \S+\), so nothing was backed up from this computer and no backup is scheduled yet: make a new line in the app/);
    expect(failed.output).not.toContain('The first backup starts now');
    expect(existsSync(join(third, '.config', 'systemd', 'user', 'restic-tray-backup.timer'))).toBe(false);
    expect(await controller.listSnapshots({ username: anna.username })).toHaveLength(before.length + 2);
    const usable = await runInTerminal('restic-tray-backup snapshots', third);
    expect(usable.code, usable.output).toBe(0);
  });
});

describe.runIf(hasTool('restic'))('the new-computer line refused in words, with nothing made', () => {
  it('no line while the computer has no backups yet, nor while restic is missing on the desktop: the password kept, the login, the settings and the computer as they were', { timeout: 60_000 }, async () => {
    const { controller, configDir } = await servingController();
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const folder = (await controller.getState()).storage?.folder as string;
    await resticOk(join(folder, anna.username), ['init']);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    const files = () => ['htpasswd', 'settings.json', 'kept-passwords.json'].map((file) => readFileSync(join(configDir, file), 'utf8'));
    const computerNow = async () => (await controller.getState()).computers.find((computer) => computer.username === anna.username);
    const before = { files: files(), computer: await computerNow() };

    await expect(controller.newLaptopLine({ username: anna.username, os: 'linux' })).rejects.toMatchObject({
      code: 'no-backups',
      message: "Anna's laptop has no backups yet, so there is nothing to bring back onto a new computer: connect the new computer as a computer of its own (Computers, Add a computer).",
    });
    expect({ files: files(), computer: await computerNow() }).toEqual(before);

    // Once it has a backup, a line is made; then restic, at a path of its own, is gone from there.
    await resticOk(join(folder, anna.username), ['backup', oldLaptopHome()]);
    expect((await controller.newLaptopLine({ username: anna.username, os: 'linux' })).line).toContain('/.connect/');
    const own = join(tempDir('rts-restic-bin-'), 'restic');
    copyFileSync('/usr/bin/restic', own);
    await controller.setResticPath({ path: own });
    unlinkSync(own);
    const settings = files()[1];
    await expect(controller.newLaptopLine({ username: anna.username, os: 'windows' })).rejects.toMatchObject({
      code: 'no-restic',
      message: `There is no restic program at ${own}. Install restic with your package manager (on Debian or Ubuntu: sudo apt install restic), or give the path of the restic program in Settings.`,
    });
    expect(files()).toEqual([before.files[0], settings, before.files[2]]);
    expect(await computerNow()).toEqual(before.computer);
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([anna.username]);
  });
});
