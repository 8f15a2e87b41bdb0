// Bundles the GUI into dist/renderer: one script, one style sheet, the page. Nothing is loaded from elsewhere.
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
