import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash } from '../../../helpers/controller.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { pathWithoutSchedulers, runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

const count = (text: string, part: string) => text.split(part).length - 1;

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('the set-up line on a computer without ~/.local/bin on its PATH and without a scheduler', () => {
  it('adds that folder to the PATH in ~/.profile and ~/.bashrc once, says where the command is; reports that nothing was scheduled, and the app shows it', { timeout: 120_000 }, async () => {
    const { controller } = await servingController();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const home = tempDir('rts-home-');
    mkdirSync(join(home, 'Documents'));
    writeFileSync(join(home, 'Documents', 'letter.txt'), 'Dear grandma,\n');
    writeFileSync(join(home, '.bashrc'), '# my own settings\nalias ll="ls -l"\n');
    const path = pathWithoutSchedulers();

    const first = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, home, ['family-secret-1', 'family-secret-1', 'n'], path);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain(`restic-tray-backup is in ${home}/.local/bin; that folder was added to your PATH in ~/.profile, ~/.bashrc: open a new terminal to use it.`);
    expect(first.output).toContain('No scheduler was found on this computer');
    expect((await controller.getState()).computers[0]).toMatchObject({ system: 'linux', scheduled: false });

    // A new terminal (its shell reads the profile) finds the command.
    for (const profile of ['.profile', '.bashrc']) {
      const status = await runBash(`. "$HOME/${profile}"; restic-tray-backup status`, { HOME: home, PATH: path });
      expect([profile, status.code, status.stdout]).toEqual([profile, 0, expect.stringMatching(/^Last backup: .+: ok\nNext backup: not scheduled/)]);
    }
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toMatch(/^# my own settings\nalias ll="ls -l"\n/);

    // Run again: the profiles keep one line each.
    const second = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, home, [], path);
    expect(second.code, second.output).toBe(0);
    for (const profile of ['.profile', '.bashrc']) {
      const text = readFileSync(join(home, profile), 'utf8');
      expect([profile, count(text, 'export PATH="$HOME/.local/bin:$PATH"')]).toEqual([profile, 1]);
    }

    // With the folder on the PATH, nothing is added: the path is only said.
    const other = tempDir('rts-home-');
    const line = (await controller.connectComputer({ username: anna.username, os: 'linux' })).line;
    const onPath = await runInTerminal(line, other, ['family-secret-1', 'family-secret-1', 'n'], `${join(other, '.local', 'bin')}:${path}`);
    expect(onPath.code, onPath.output).toBe(0);
    expect(onPath.output).toContain(`The command restic-tray-backup is in ${other}/.local/bin.`);
    expect(existsSync(join(other, '.profile'))).toBe(false);

    // A computer where a scheduler was found reports so, and the warning goes.
    const fetched = (await controller.connectComputer({ username: anna.username, os: 'linux' })).line.replace(/^\( (.+ -K -) \|\| echo .+\) \| sh$/, '$1 -o /dev/null');
    expect((await runBash(fetched, {})).code).toBe(0);
    expect((await runBash(fetched.replace(/\/sh"'/, `/report/Linux/0.14.0/scheduled"'`), {})).code).toBe(0);
    expect((await controller.getState()).computers[0]).toMatchObject({ system: 'linux', resticVersion: '0.14.0', scheduled: true });
  });
});
