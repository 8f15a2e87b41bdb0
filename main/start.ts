import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electron-binary.js';
import { runHeadless } from './headless/cli.js';

const entry = fileURLToPath(new URL('./electron/main.js', import.meta.url));
const binary = electronBinary();
if (binary && existsSync(entry)) {
  const child = spawn(binary, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    binary
      ? 'This build has no Electron shell (run npm run build); starting headless web mode instead.'
      : 'Electron is not installed on this machine; starting headless web mode instead.',
  );
  await runHeadless(process.argv.slice(2));
}
