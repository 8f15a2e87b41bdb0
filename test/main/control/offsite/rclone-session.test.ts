import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRclone } from '../../../../main/control/offsite/rclone.js';
import { RcloneSession } from '../../../../main/control/offsite/rclone-session.js';
import { runBash } from '../../../helpers/controller.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

/** The loopback port of the `rclone rcd` started with this configuration file. */
async function portOf(configFile: string): Promise<number> {
  const pid = (await runBash(`pgrep -f -- ${JSON.stringify(`rcd .*--config ${configFile}`)}`, {})).stdout.trim();
  const listening = (await runBash(`ss -Hltnp | grep -F 'pid=${pid},'`, {})).stdout;
  const match = /127\.0\.0\.1:(\d+)/.exec(listening);
  if (!match) throw new Error(`rclone ${pid} listens nowhere: ${listening}`);
  return Number(match[1]);
}

describe.runIf(hasTool('rclone'))('one rclone for a whole copy (rclone rcd)', () => {
  it('listens on loopback behind a login of its own; its jobs answer with listings, rclone’s errors in its words, and report stopped once it is ended', { timeout: 60_000 }, async () => {
    const folder = tempDir('rts-remote-');
    writeFileSync(join(folder, 'a'), 'one');
    const configFile = join(tempDir('rts-config-'), 'rclone.conf');
    writeFileSync(configFile, '', { mode: 0o600 });
    const stop = new AbortController();
    const rclone = await RcloneSession.open({ binary: (await findRclone(null)) as string, configFile, signal: stop.signal });

    const port = await portOf(configFile);
    for (const login of [[], ['-u', 'restic-tray-server:guessed']]) {
      const tried = await runBash(`curl -s -o /dev/null -w '%{http_code}' -X POST ${login.join(' ')} http://127.0.0.1:${port}/operations/list`, {});
      expect(tried.stdout).toBe('401');
    }

    const listed = await rclone.job('operations/list', { fs: folder, remote: '', opt: { recurse: true } });
    expect(listed).toMatchObject({ ok: true, stopped: false, result: { list: [expect.objectContaining({ Path: 'a', Size: 3 })] } });
    const missing = await rclone.job('operations/list', { fs: 'nowhere:', remote: '' });
    expect(missing).toMatchObject({ ok: false, stopped: false, errors: expect.arrayContaining([expect.stringMatching(/didn't find section in config file/)]) });

    stop.abort();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await rclone.job('operations/list', { fs: folder, remote: '' })).toMatchObject({ ok: false, stopped: true });
  });

  it('a session the app could not close (it crashed during a copy) is ended by the next one, through its own login; a closed one leaves nothing behind', { timeout: 60_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const configFile = join(configDir, 'rclone.conf');
    writeFileSync(configFile, '', { mode: 0o600 });
    const leftoverFile = join(configDir, 'rclone-session.json');
    const binary = (await findRclone(null)) as string;
    const folder = tempDir('rts-remote-');

    await RcloneSession.open({ binary, configFile, leftoverFile });
    expect(statSync(leftoverFile).mode & 0o777).toBe(0o600);
    const { address } = JSON.parse(readFileSync(leftoverFile, 'utf8')) as { address: string };
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answers = async () => (await runBash(`curl -s -o /dev/null -w '%{http_code}' -X POST ${address}/rc/noop || true`, {})).stdout;
    expect(await answers()).toBe('401');
    const next = await RcloneSession.open({ binary, configFile, leftoverFile });
    // rclone quits 1.5 s after it was asked to.
    const deadline = Date.now() + 10_000;
    while ((await answers()) !== '000' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await answers()).toBe('000');
    expect(await next.job('operations/list', { fs: folder, remote: '' })).toMatchObject({ ok: true });
    await next.close();
    expect(existsSync(leftoverFile)).toBe(false);
  });
});
