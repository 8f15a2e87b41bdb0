import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Where a program the app runs is (rclone, restic): a configured path, or the first one of that name on PATH; null when there is none. */
export async function findProgram(name: string, configured: string | null, path = process.env.PATH ?? ''): Promise<string | null> {
  const file = process.platform === 'win32' ? `${name}.exe` : name;
  const candidates = configured ? [configured] : path.split(delimiter).filter(Boolean).map((folder) => join(folder, file));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}
