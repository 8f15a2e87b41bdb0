import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash, waitForState } from '../../../helpers/controller.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

/** A family computer's home with documents to back up: a few MiB, so the backup has several pack files. */
function familyHome(): string {
  const home = tempDir('rts-home-');
  mkdirSync(join(home, 'Documents'));
  for (let i = 0; i < 4; i++) writeFileSync(join(home, 'Documents', `photo-${i}.jpg`), randomBytes(2_500_000));
  return home;
}

/** The line's fetch alone (its printf and curl, without sh). */
const fetchOnly = (line: string) => line.replace(/^\( (.+ -K -) \|\| echo .+\) \| sh$/, '$1 -o /dev/null');

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('the repair line, for a computer the set-up line connected', () => {
  it('after a pack file is lost, the line repairs the backups there with restic 0.14’s rebuild-index and a backup, saying first which warnings to expect; restic check passes; the right to delete it needed is gone when it ends, and after an hour when it never says so; the line works once', { timeout: 300_000 }, async () => {
    let clock = Date.now();
    const { controller } = await servingController({ now: () => clock, tickMs: 100 });
    const anna = await controller.addComputer({ displayName: 'Anna' });
    await expect(controller.repairLine({ username: anna.username, os: 'linux' })).rejects.toMatchObject({ code: 'set-up-by-hand' });
    const home = familyHome();
    const connected = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, home, ['family-secret-1', 'family-secret-1', 'n']);
    expect(connected.code, connected.output).toBe(0);
    const state = await controller.getState();
    expect(state.computers[0]?.appendOnly).toBe(true);

    // What Anna's login may delete, asked with its own login as the set-up installed it: a data file that is not there.
    const dir = join(home, '.config', 'restic-tray-server');
    const deleting = () =>
      runBash(
        `printf 'url = "%s"\\n' "$(sed 's|^rest:||; s|/$||' "${dir}/repository")/data/${'0'.repeat(64)}" | curl -s -o /dev/null -w '%{http_code}' -X DELETE --cacert "${dir}/ca.pem" -K -`,
        {},
      ).then((ran) => ran.stdout);
    expect(await deleting()).toBe('403');

    // A pack file lost on the disk: restic's check there fails.
    const repo = join(state.storage?.folder as string, anna.username);
    const packs = readdirSync(join(repo, 'data'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    rmSync(packs[0] as string);
    const broken = await runInTerminal('restic-tray-backup check', home);
    expect(broken.code).not.toBe(0);

    const said: string[] = [];
    controller.on('summary', (summary) => said.push(summary.message));
    const repair = await controller.repairLine({ username: anna.username, os: 'linux' });
    expect(repair.expected).toEqual([
      '“removing not found pack file …”: each damaged file the backup desktop moved aside, left out of the new index.',
      '“error: parts of … not found in the repository index; storing the file again”: the backup uploads again what those files held, from this computer.',
      '“Warning: at least one source file could not be read”: said after such a backup; the backup was saved all the same.',
    ]);
    const ran = await runInTerminal(repair.line, home);
    expect(ran.code, ran.output).toBe(0);
    // The warnings are said before restic says them.
    const warned = ran.output.indexOf('restic says a few things on the way that sound alarming and are expected:');
    const started = ran.output.indexOf('1. A new index of the backups, without the damaged files.');
    expect(warned).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThan(warned);
    expect(ran.output.search(/removing not found pack file [0-9a-f]{64}/)).toBeGreaterThan(started);
    expect(ran.output.search(/error: parts of \/\S+ not found in the repository index; storing the file again/)).toBeGreaterThan(started);
    expect(ran.output).toContain('Done: the backups of Anna are repaired, and the check found no errors.');
    expect((await runInTerminal('restic-tray-backup check', home)).output).toContain('no errors were found');
    // The repair's backup was saved (restic ends it with 3 for the files it stored again): it counts as the last backup.
    expect((await runInTerminal('restic-tray-backup status', home)).output).toMatch(/^Last backup: .+: ok\r?$/m);
    // Its right to delete ended with it.
    expect(await deleting()).toBe('403');
    expect(said.join('\n')).toMatch(/Anna fetched its repair \(from .+\): it may delete in its own backups until the repair ends, an hour at most\./);
    expect(said.join('\n')).toContain('The repair of Anna’s backups ended, and restic’s check there found no errors: it may no longer delete.');
    expect((await controller.getState()).computers[0]?.appendOnly).toBe(true);

    // The line works once.
    const again = await runInTerminal(repair.line, home);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain('This set-up line was used already');

    // A repair fetched and never ended: the right to delete lasts an hour, then goes by itself.
    const unfinished = await controller.repairLine({ username: anna.username, os: 'linux' });
    expect((await runBash(fetchOnly(unfinished.line), {})).code).toBe(0);
    expect(await deleting()).toBe('200');
    clock += 59 * 60_000;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await deleting()).toBe('200');
    clock += 2 * 60_000;
    await waitForState(controller, () => said.some((message) => message === 'Anna may no longer delete in its backups: the hour for its repair is over.'));
    expect(await deleting()).toBe('403');
    expect(readFileSync(join(dir, 'password'), 'utf8')).toBe('family-secret-1');
  });
});
