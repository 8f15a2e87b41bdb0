import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servingController } from '../../../helpers/client-computer.js';
import { treeDigest } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { pathWithout, runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

/** A family computer's home with documents to back up. */
function familyHome(): string {
  const home = tempDir('rts-home-');
  mkdirSync(join(home, 'Documents', 'school'), { recursive: true });
  writeFileSync(join(home, 'Documents', 'school', 'essay.txt'), 'Why backups matter.\n'.repeat(200));
  writeFileSync(join(home, 'Documents', 'tax-return-2025.pdf'), Buffer.alloc(50_000, 3));
  writeFileSync(join(home, 'recipes.txt'), 'Pancakes\n');
  return home;
}

/** The folders a default restore made in the home folder, oldest first. */
const restoredFolders = (home: string) => readdirSync(home).filter((name) => name.startsWith('restic-restore-')).sort((a, b) => a.length - b.length || a.localeCompare(b));

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('restic-tray-backup, as the set-up line installs it', () => {
  it('the computer’s page gives its commands with nothing to fill in, and each runs as given: restore of the latest backup into a new dated folder, a second one into another, one folder, find, check; mount says FUSE is missing where it is', { timeout: 240_000 }, async () => {
    const { controller } = await servingController();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    // Set up by hand so far: the page has the by-hand commands only.
    expect((await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', password: anna.password })).installed).toBeNull();
    expect((await controller.getState()).computers[0]?.setUpBy).toBe('hand');

    const home = familyHome();
    const connected = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, home, ['family-secret-1', 'family-secret-1', 'n']);
    expect(connected.code, connected.output).toBe(0);
    expect((await controller.getState()).computers[0]?.setUpBy).toBe('line');

    const lines = await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17' });
    const installed = lines.installed?.commands ?? [];
    const commands = installed.map((line) => line.command);
    expect(commands).toEqual([
      'restic-tray-backup status',
      'restic-tray-backup backup',
      'restic-tray-backup snapshots',
      'restic-tray-backup restore',
      'restic-tray-backup restore latest Documents',
      'restic-tray-backup find "*.pdf"',
      'restic-tray-backup mount ~/backups',
      'restic-tray-backup check',
    ]);
    // No placeholder, no second certificate path: nothing to fill in.
    expect(JSON.stringify(lines.installed)).not.toMatch(/PASTE|\.config\/restic\/|--cacert/);
    const windows = await controller.commandLines({ username: anna.username, os: 'windows', resticVersion: 'before-0.17' });
    expect(windows.installed?.commands.map((line) => line.command)).toEqual(commands.filter((command) => !command.includes('mount')));
    expect(windows.installed?.notes).toContain('Windows cannot show the backups as a folder: restore them, or find a file first.');

    // Each runs as given, in a new terminal (which opens in the home folder).
    const run = (command: string, path?: string) => runInTerminal(`cd && ${command}`, home, [], path);
    const first = await run('restic-tray-backup restore');
    expect(first.code, first.output).toBe(0);
    const today = new Date().toLocaleDateString('sv');
    expect(restoredFolders(home)).toEqual([`restic-restore-${today}`]);
    expect(first.output).toContain(`Restored into ${home}/restic-restore-${today}`);
    expect(treeDigest(join(home, `restic-restore-${today}`, home, 'Documents'))).toEqual(treeDigest(join(home, 'Documents')));

    // A second restore never writes over the first: a new folder.
    writeFileSync(join(home, `restic-restore-${today}`, 'my-note.txt'), 'kept\n');
    const second = await run('restic-tray-backup restore');
    expect(second.code, second.output).toBe(0);
    expect(restoredFolders(home)).toEqual([`restic-restore-${today}`, `restic-restore-${today}-2`]);
    expect(readFileSync(join(home, `restic-restore-${today}`, 'my-note.txt'), 'utf8')).toBe('kept\n');

    // One folder of the latest backup, into a folder of one's choice; a folder with files in it is refused.
    const target = join(tempDir('rts-target-'), 'from-backup');
    const one = await run(`restic-tray-backup restore latest Documents --target ${target}`);
    expect(one.code, one.output).toBe(0);
    expect(treeDigest(join(target, home, 'Documents'))).toEqual(treeDigest(join(home, 'Documents')));
    expect(existsSync(join(target, home, 'recipes.txt'))).toBe(false);
    const full = await run(`restic-tray-backup restore --target ${target}`);
    expect(full.code).toBe(2);
    expect(full.output).toContain(`restic-tray-backup: ${target} is not empty: give a new folder, or leave out --target to have one made.`);

    const found = await run(installed[5]?.command ?? '');
    expect(found.code, found.output).toBe(0);
    expect(found.output).toContain(join(home, 'Documents', 'tax-return-2025.pdf'));
    expect(found.output).not.toContain('essay.txt');

    const checked = await run('restic-tray-backup check');
    expect(checked.code, checked.output).toBe(0);
    expect(checked.output).toContain('no errors were found');

    // Without FUSE's mount helper, mount says so in words, and what works instead.
    const noFuse = await run('restic-tray-backup mount ~/backups', `${join(home, '.local', 'bin')}:${pathWithout(['fusermount', 'fusermount3'])}`);
    expect(noFuse.code).toBe(2);
    expect(noFuse.output).toContain('restic-tray-backup: showing the backups as a folder needs FUSE, which this computer does not have (on Debian or Ubuntu: sudo apt-get install fuse3). restic-tray-backup restore and find work without it.');

    const usage = await run('restic-tray-backup');
    expect(usage.output).toContain('usage: restic-tray-backup backup | status | snapshots | restore [SNAPSHOT] [PATH...] [--target FOLDER] | find PATTERN | mount FOLDER | check | uninstall');

    // A password reset for setting it up by hand: the page goes back to the by-hand commands.
    await controller.resetPassword({ username: anna.username });
    expect((await controller.getState()).computers[0]?.setUpBy).toBe('hand');
    expect((await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17' })).installed).toBeNull();
  });
});
