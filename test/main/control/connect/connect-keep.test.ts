import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../../../main/contract.js';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash } from '../../../helpers/controller.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

const KEEP_QUESTION = 'Keep a copy of this password on the backup desktop, so your backups can be restored even if it is forgotten? [Y/n]';
const WHO_READS = "A copy kept on the backup desktop can be read by whoever uses that desktop's account, and with it these backups.";

/** A family computer's home with a letter to back up. */
function familyHome(): string {
  const home = tempDir('rts-home-');
  writeFileSync(join(home, 'letter.txt'), 'Dear grandma,\n');
  return home;
}

/** Every file under a folder, read as text. */
function filesUnder(folder: string): { path: string; text: string }[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((name) => join(folder, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: readFileSync(path, 'latin1') }));
}

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script') && hasTool('setsid'))('the set-up line offers to keep the encryption password on the backup desktop', () => {
  it('answered yes (the default), the password goes to the app once, which opens the backups with it and keeps it; answered no, nothing is kept; piped without a terminal, it is kept and said; the line’s code sends no second password; the password is in no log', { timeout: 240_000 }, async () => {
    const { controller, configDir } = await servingController();
    const said: Summary[] = [];
    controller.on('summary', (summary) => said.push(summary));
    const requests: string[] = [];
    controller.on('requests', (batch) => requests.push(JSON.stringify(batch)));

    // Anna presses Enter at the question: yes.
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const home = familyHome();
    const ran = await runInTerminal(line, home, ['anna-secret-1', 'anna-secret-1', '']);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain(WHO_READS);
    expect(ran.output).toContain(KEEP_QUESTION);
    expect(ran.output).toContain('The encryption password is kept on the backup desktop: Anna’s page there says so.');
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([anna.username]);
    expect(await controller.showPassword({ username: anna.username })).toEqual({ password: 'anna-secret-1' });
    // The desktop reads the backups with it (restic on the disk, the kept password).
    const preview = await controller.previewRetention({ username: anna.username });
    expect(preview.keep.length + preview.forget.length).toBe(1);

    // The same code cannot send another password: refused, and the kept one stays.
    const code = /\/\.connect\/([a-z2-9]{20})\/sh/.exec(line)?.[1] ?? '';
    const dir = join(home, '.config', 'restic-tray-server');
    const host = /^rest:https:\/\/[^@]+@([^/]+)\//.exec(readFileSync(join(dir, 'repository'), 'utf8'))?.[1] ?? '';
    const again = await runBash(
      `printf 'url = "%s"\\n' "https://${host}/.connect/${code}/keep" | curl -sS -w ' %{http_code}' --cacert "${dir}/ca.pem" -K - --data-binary 'an-intruder-password'`,
      {},
    );
    expect(again.stdout).toMatch(/^Restic Tray Server: This line did what it may already: .* 410$/);
    expect(await controller.showPassword({ username: anna.username })).toEqual({ password: 'anna-secret-1' });

    // Ben answers no: nothing is kept.
    const ben = await controller.addComputer({ displayName: 'Ben' });
    const benRan = await runInTerminal((await controller.connectComputer({ username: ben.username, os: 'linux' })).line, familyHome(), ['ben-secret-22', 'ben-secret-22', 'n']);
    expect(benRan.code, benRan.output).toBe(0);
    expect(benRan.output).toContain(KEEP_QUESTION);
    expect(benRan.output).not.toContain('is kept on the backup desktop');
    expect((await controller.getState()).caretaker.keptPasswords).toEqual([anna.username]);

    // Carla's line runs piped, with no terminal to ask (setsid: no controlling terminal): a password is made and kept, and the line says so.
    const carla = await controller.addComputer({ displayName: 'Carla' });
    const carlaHome = familyHome();
    const piped = await runBash(`setsid -w sh -c ${JSON.stringify((await controller.connectComputer({ username: carla.username, os: 'linux' })).line)} < /dev/null`, {
      HOME: carlaHome,
      RESTIC_CACHE_DIR: join(carlaHome, '.cache', 'restic'),
    });
    const carlaOutput = piped.stdout + piped.stderr;
    expect(piped.code, carlaOutput).toBe(0);
    expect(carlaOutput).toContain('No terminal to ask: a copy is kept there (the default), so that your backups can be restored even if the password is forgotten.');
    expect(carlaOutput).toContain('The encryption password is kept on the backup desktop: Carla’s page there says so.');
    const made = readFileSync(join(carlaHome, '.config', 'restic-tray-server', 'password'), 'utf8');
    expect(await controller.showPassword({ username: carla.username })).toEqual({ password: made });

    // No password in the live log, the request log or the app's files but its encrypted store.
    const secrets = ['anna-secret-1', 'ben-secret-22', made, 'an-intruder-password'];
    const logged = [...said.map((summary) => summary.message), ...requests].join('\n');
    expect(secrets.filter((secret) => logged.includes(secret))).toEqual([]);
    expect(filesUnder(configDir).filter((file) => secrets.some((secret) => file.text.includes(secret))).map((file) => file.path)).toEqual([]);
  });
});
