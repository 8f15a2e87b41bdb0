import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../../main/contract.js';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash } from '../../../helpers/controller.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

const ROUNDS = 3;

/** A family computer's home with a few files to back up; each backup adds one more. */
function familyHome(): string {
  const home = tempDir('rts-home-');
  mkdirSync(join(home, 'Documents'));
  for (let i = 0; i < 3; i++) writeFileSync(join(home, 'Documents', `file-${i}.bin`), randomBytes(200_000));
  return home;
}

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('a password reset and a new line while other computers back up', () => {
  it(`four computers back up without pause while a fifth has its password reset and its new line run, ${ROUNDS} times over: no request of any of them is refused, and each new line connects at once`, { timeout: 480_000 }, async () => {
    const { controller } = await servingController();
    const names = ['Anna', 'Ben', 'Carla', 'David', 'Emil'];
    const homes: string[] = [];
    for (const name of names) {
      const computer = await controller.addComputer({ displayName: name });
      const home = familyHome();
      const ran = await runInTerminal((await controller.connectComputer({ username: computer.username, os: 'linux' })).line, home, ['family-secret-1', 'family-secret-1', 'n']);
      expect(ran.code, ran.output).toBe(0);
      homes.push(home);
    }
    const emil = (await controller.getState()).computers.find((computer) => computer.displayName === 'Emil')?.username ?? '';
    const seen: LogEntry[] = [];
    controller.on('requests', (batch) => seen.push(...batch));

    // Four computers back up in a loop until told to stop, each backup with a new file, counting the backups that failed.
    const stop = join(tempDir('rts-stop-'), 'stop');
    const loops = homes.slice(0, 4).map((home) =>
      runBash(
        `n=0; failed=0; while [ ! -e '${stop}' ]; do n=$((n + 1)); head -c 50000 /dev/urandom > "$HOME/Documents/new-$n.bin"; restic-tray-backup backup >/dev/null 2>"$HOME/last-error" || failed=$((failed + 1)); done; echo "$n $failed"`,
        { HOME: home, PATH: `${join(home, '.local', 'bin')}:${process.env.PATH ?? ''}`, RESTIC_CACHE_DIR: join(home, '.cache', 'restic') },
        420_000,
      ),
    );
    const backedUp = () => seen.filter((entry) => entry.method === 'POST' && entry.type === 'snapshots' && entry.status === 200 && entry.user !== emil).length;
    while (backedUp() < 4) await new Promise((resolve) => setTimeout(resolve, 100));

    for (let round = 0; round < ROUNDS; round++) {
      const before = backedUp();
      await controller.resetPassword({ username: emil });
      const again = await runInTerminal((await controller.connectComputer({ username: emil, os: 'linux' })).line, homes[4] as string);
      expect([round, again.code], again.output).toEqual([round, 0]);
      expect(again.output).toContain('The backups of Emil are already on the server: they go on from there.');
      // The others kept backing up meanwhile.
      while (backedUp() < before + 4) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    writeFileSync(stop, '');
    const counts = (await Promise.all(loops)).map((loop) => loop.stdout.trim().split(' ').map(Number));
    expect(counts.map(([, failed]) => failed)).toEqual([0, 0, 0, 0]);
    for (const home of homes.slice(0, 4)) expect(existsSync(join(home, 'last-error')) ? readFileSync(join(home, 'last-error'), 'utf8') : '').not.toMatch(/401|unauthori[sz]ed/i);

    // Not one request refused, neither the four computers' nor Emil's new line's.
    expect(seen.length).toBeGreaterThan(100);
    expect(seen.filter((entry) => entry.status === 401).map((entry) => `${entry.method} ${entry.path} ${entry.user ?? ''}`)).toEqual([]);
  });
});
