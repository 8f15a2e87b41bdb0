import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { writeAtomically } from '../../../server/atomic-write.js';
import { createSyncer } from '../../../server/fsync.js';

// The config folder sits on the system disk, where fsync works; a failure to
// sync there is a real error, not a quirk to tolerate quietly.
const syncer = createSyncer(() => undefined);

/** Writes a whole file so that a crash leaves either the old or the new content: temp, fsync, rename, folder fsync. */
export async function writeFileAtomically(path: string, content: string | Buffer, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeAtomically(path, Readable.from([Buffer.from(content)]), { mode, syncer });
}
