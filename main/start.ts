import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHeadless } from './headless/cli.js';

/**
 * The Electron binary, if it is on this machine. `require('electron')` is not
 * used: it would try to download the binary, which cannot work offline.
 */
function electronBinary(): string | undefined {
  try {
    const folder = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    const name = readFileSync(join(folder, 'path.txt'), 'utf8');
    const binary = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(folder, 'dist'), name);
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const entry = fileURLToPath(new URL('./electron/main.js', import.meta.url));
const binary = electronBinary();
if (binary && existsSync(entry)) {
  const child = spawn(binary, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    binary
      ? 'This build has no Electron shell yet; starting headless web mode instead.'
      : 'Electron is not installed on this machine; starting headless web mode instead.',
  );
  await runHeadless(process.argv.slice(2));
}
