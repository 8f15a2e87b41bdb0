import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runHeadless } from './headless/cli.js';

/** The Electron binary, if the `electron` package could download it on this machine. */
function electronBinary(): string | undefined {
  try {
    // The electron package exports the binary's path, and throws when its download failed.
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
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
