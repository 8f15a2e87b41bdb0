// Bundles what runs in a page: the GUI into dist/renderer (one script, one style sheet, the page;
// nothing loaded from elsewhere) and the Electron preload into one CommonJS file (a sandboxed
// preload may only require 'electron').
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

/** A warning is a mistake (a style sheet with a lost brace still bundles, and styles go missing): the build fails on it. */
function refuseWarnings(result) {
  if (result.warnings.length > 0) throw new Error(`the bundle has ${result.warnings.length} warning(s): fix them (printed above)`);
}

const out = 'dist/renderer';
await mkdir(out, { recursive: true });
refuseWarnings(await build({
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
}));
await copyFile('renderer/index.html', `${out}/index.html`);
refuseWarnings(await build({
  entryPoints: ['main/electron/preload.ts'],
  outfile: 'dist/main/electron/preload.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['electron'],
  logLevel: 'warning',
}));
