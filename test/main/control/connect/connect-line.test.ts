import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servingController } from '../../../helpers/client-computer.js';
import { runBash } from '../../../helpers/controller.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { runInTerminal } from '../../../helpers/terminal.js';
import { hasTool } from '../../../helpers/tools.js';

const UNVERIFIED = 'Restic Tray Server: the backup server could not be verified (its certificate is not the one this line expects, or it did not answer): make a new line in the app on the backup desktop (the computer page, Connect this computer) and check the address it shows.';

/**
 * A family computer's home whose `curl` writes down the arguments of every
 * call, then runs the real curl with them (first on the PATH the terminal
 * gives, so the line and the script it fetches both go through it).
 */
async function homeRecordingCurl(): Promise<{ home: string; calls: () => string[][] }> {
  const home = tempDir('rts-home-');
  const bin = join(home, '.local', 'bin');
  mkdirSync(bin, { recursive: true });
  const curl = (await runBash('command -v curl', {})).stdout.trim();
  const log = join(tempDir('rts-argv-'), 'curl-calls');
  writeFileSync(join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\0' "$@" >> '${log}'\nprintf '\\n' >> '${log}'\nexec '${curl}' "$@"\n`);
  chmodSync(join(bin, 'curl'), 0o755);
  const calls = () =>
    readFileSync(log, 'utf8')
      .split('\0\n')
      .filter(Boolean)
      .map((call) => call.split('\0'));
  return { home, calls };
}

describe.runIf(hasTool('restic') && hasTool('curl') && hasTool('script'))('the Linux and macOS line, against what other users and other servers can do', () => {
  it('the one-time code is in no argument of any curl the line or its script runs (another user could read it in the process list and fetch first): it reaches curl on standard input; the set-up still works end to end', { timeout: 180_000 }, async () => {
    const { controller } = await servingController();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const code = /\/\.connect\/([a-z2-9]{20})\/sh/.exec(line)?.[1] ?? '';
    expect(code).not.toBe('');
    // As generated: the code only inside the configuration the shell's printf writes to curl's standard input.
    expect(line.split(code)).toHaveLength(2);
    expect(line).toMatch(new RegExp(`^\\( printf '%s\\\\n' 'url = "https://[^"]+/\\.connect/${code}/sh"' \\| curl [^|]* -K - \\|\\| `));
    const { home, calls } = await homeRecordingCurl();
    const ran = await runInTerminal(line, home, ['family-secret-1', 'family-secret-1', 'n']);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain('Done: Anna backs up to the server.');
    // The fetch, the probe of each name (its login also on standard input), the report: every call seen, none with the code
    // or the login's password in its arguments.
    const made = calls();
    expect(made.filter((args) => args.includes('-K')).length).toBeGreaterThanOrEqual(3);
    expect(made.filter((args) => args.includes('-K')).length).toBe(made.length);
    const login = /^rest:https:\/\/[^:]+:([^@]+)@/.exec(readFileSync(join(home, '.config', 'restic-tray-server', 'repository'), 'utf8'))?.[1] ?? '';
    expect(login).not.toBe('');
    expect(made.filter((args) => args.join(' ').includes(login) || args.some((arg) => /^(-u|--user)/.test(arg)))).toEqual([]);
    expect(made.filter((args) => args.join(' ').includes(code))).toEqual([]);
    expect((await controller.getState()).computers[0]).toMatchObject({ system: 'linux', resticVersion: '0.14.0' });
    // The script makes its last request (the report) with the code too: in its text no curl is given it
    // (the same script as a file, made after the run: making it sets a new server password).
    const script = (await controller.setupFile({ username: anna.username, os: 'linux' })).content;
    const curls = script.split('\n').filter((text) => /\bcurl\b/.test(text) && !text.trimStart().startsWith('#'));
    expect(curls.length).toBeGreaterThanOrEqual(2);
    for (const text of curls) expect(text.slice(text.search(/\bcurl\b/))).not.toMatch(/CODE|\.connect/);
  });

  it('a download cut off anywhere runs nothing and the line ends non-zero: the script is one function called on its last line, and a failed curl hands sh a refusal instead of an empty script', { timeout: 120_000 }, async () => {
    const { controller, configDir } = await servingController();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const script = (await controller.setupFile({ username: anna.username, os: 'linux' })).content;
    expect(script.endsWith('\n}\nconnect_this_computer\n')).toBe(true);
    const lastLine = script.length - 'connect_this_computer\n'.length;
    // A server with the desktop's own certificate and key (the pin holds) that stops sending partway.
    let cutAt = 0;
    const cutting = createServer({ cert: readFileSync(join(configDir, 'tls', 'server.pem')), key: readFileSync(join(configDir, 'tls', 'server-key.pem')) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/x-shellscript', 'Content-Length': Buffer.byteLength(script) });
      res.write(script.slice(0, cutAt), () => res.destroy());
    });
    await new Promise<void>((resolve) => cutting.listen(0, '127.0.0.1', resolve));
    const port = (cutting.address() as AddressInfo).port;
    try {
      // Cut off just before its last line, sh reads a whole function never called, then the line's own refusal;
      // cut off halfway, sh finds the function unfinished and runs none of it.
      for (const [cut, says] of [[lastLine, UNVERIFIED], [Math.floor(script.length / 2), /syntax error/i]] as const) {
        cutAt = cut;
        const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
        const home = tempDir('rts-home-');
        const ran = await runInTerminal(line.replace(/https:\/\/[^/]+\//, `https://127.0.0.1:${port}/`), home, ['family-secret-1', 'family-secret-1', 'n']);
        expect([cut, ran.code], ran.output).not.toEqual([cut, 0]);
        expect(ran.output).toMatch(/curl: \(18\)/);
        expect(ran.output).toMatch(says);
        expect(ran.output).not.toContain('Connecting Anna to the backup server.');
        expect(readdirSync(home)).toEqual([]);
      }
    } finally {
      cutting.close();
    }
  });
});
