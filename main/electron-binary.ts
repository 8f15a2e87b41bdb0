import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The Electron binary, if it is on this machine. `require('electron')` is not
 * used: it would try to download the binary, which cannot work offline.
 */
export function electronBinary(): string | undefined {
  try {
    const folder = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const name = readFileSync(join(folder, 'path.txt'), 'utf8');
    const binary = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(folder, 'dist'), name);
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}
