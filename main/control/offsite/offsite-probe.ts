import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { joinRemote } from './offsite-copy.js';
import { describeFailure } from './offsite-words.js';
import { runRclone } from './rclone.js';

const PROBE_NAME = '.restic-tray-server-probe';

/** Writes a probe file to `remote`, reads it back and deletes it: the target works, or the user is told why not (`place` names it). */
export async function probeTarget(options: { binary: string; remote: string; configFile: string; place: string }): Promise<void> {
  const local = await mkdtemp(join(tmpdir(), 'rts-probe-'));
  try {
    const content = randomBytes(32).toString('hex');
    await writeFile(join(local, 'sent'), content);
    const there = joinRemote(options.remote, PROBE_NAME);
    const steps: [string[], string][] = [
      [['copyto', join(local, 'sent'), there], 'write a test file there'],
      [['copyto', there, join(local, 'back')], 'read the test file back'],
      [['deletefile', there], 'delete the test file'],
    ];
    for (const [args, what] of steps) {
      const run = await runRclone(args, { binary: options.binary, configFile: options.configFile });
      if (run.code !== 0) throw new UserError('offsite-unusable', `The copy cannot go there: rclone could not ${what}. ${describeFailure(run.errors, run.code, options.place).problem}`);
    }
    if ((await readFile(join(local, 'back'), 'utf8')) !== content) {
      throw new UserError('offsite-unusable', 'The copy cannot go there: the test file came back different.');
    }
  } finally {
    await rm(local, { recursive: true, force: true });
  }
}
