// Bundles what runs in a page: the GUI into dist/renderer (one script, one style sheet, the page;
// nothing loaded from elsewhere) and the Electron preload into one CommonJS file (a sandboxed
// preload may only require 'electron').
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

const out = 'dist/renderer';
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: 'renderer/src/main.tsx', styles: 'renderer/src/styles.css' },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'chrome120',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile('renderer/index.html', `${out}/index.html`);
await build({
  entryPoints: ['main/electron/preload.ts'],
  outfile: 'dist/main/electron/preload.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['electron'],
  logLevel: 'warning',
});
