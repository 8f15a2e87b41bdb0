import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRclone } from '../../../main/control/rclone.js';
import { RcloneSession } from '../../../main/control/rclone-session.js';
import { runBash } from '../../helpers/controller.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { hasTool } from '../../helpers/tools.js';

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
    expect(missing).toMatchObject({ ok: false, stopped: false, errors: [expect.stringMatching(/didn't find section in config file/)] });

    stop.abort();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await rclone.job('operations/list', { fs: folder, remote: '' })).toMatchObject({ ok: false, stopped: true });
  });
});
