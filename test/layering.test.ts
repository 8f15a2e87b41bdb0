import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/** What each layer may not import at run time (see shared STYLE: folders named by where code runs). */
const RULES: Record<string, { forbidden: RegExp[] }> = {
  server: { forbidden: [/^electron$/, /(^|\/)main\//, /(^|\/)renderer\//] },
  'main/control': { forbidden: [/^electron$/, /(^|\/)electron\//, /(^|\/)headless\//, /(^|\/)renderer\//] },
  'main/headless': { forbidden: [/^electron$/, /(^|\/)electron\//, /(^|\/)renderer\//] },
  // The GUI runs in a sandboxed page: no Node, no Electron, nothing of main but the contract's types (`import type`).
  renderer: { forbidden: [/^electron$/, /^node:/, /(^|\/)main\/(?!common\/)/, /(^|\/)server\//] },
  // Code for both sides: it imports nothing at all.
  'main/common': { forbidden: [/./] },
};

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every module a file names in an import or re-export, types included. */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1] as string);
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*import\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1] as string);
}

describe('layers', () => {
  it.each(Object.entries(RULES))('%s imports nothing it must not', (folder, rule) => {
    const offences: string[] = [];
    for (const file of sourceFiles(folder)) {
      for (const specifier of importsOf(file)) {
        if (rule.forbidden.some((pattern) => pattern.test(specifier))) offences.push(`${file}: ${specifier}`);
      }
    }
    expect(offences).toEqual([]);
    expect(sourceFiles(folder).length).toBeGreaterThan(0);
  });

  it('only main/electron/ imports electron at run time (elsewhere it would try to download Electron)', () => {
    const offences = ['server', 'main', 'renderer', 'bench']
      .flatMap(sourceFiles)
      .filter((file) => !file.startsWith(join('main', 'electron')))
      .filter((file) => importsOf(file).includes('electron'));
    expect(offences).toEqual([]);
    expect(sourceFiles(join('main', 'electron')).filter((file) => importsOf(file).includes('electron')).length).toBeGreaterThan(5);
  });

  it('the rooms of the app’s brain are folders that never import each other, not even types: they meet in core, the controller and the state room', () => {
    const control = join('main', 'control');
    const rooms = readdirSync(control, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'core')
      .map((entry) => entry.name);
    expect(rooms.sort()).toEqual(['activity', 'caretaker', 'computers', 'connect', 'disks', 'integrity', 'offsite', 'serving', 'tls']);
    const offences = rooms.flatMap((room) =>
      sourceFiles(join(control, room)).flatMap((file) =>
        specifiersOf(file)
          .map((specifier) => resolve(dirname(file), specifier))
          .filter((target) => target.startsWith(resolve(control) + sep))
          .map((target) => relative(resolve(control), target).split(sep)[0] as string)
          .filter((first) => first !== room && first !== 'core')
          .map((first) => `${file}: ${first}`),
      ),
    );
    expect(offences).toEqual([]);
  });

  it('core imports no room: every room may use it', () => {
    const control = resolve('main', 'control');
    const offences = sourceFiles(join('main', 'control', 'core')).flatMap((file) =>
      specifiersOf(file)
        .map((specifier) => resolve(dirname(file), specifier))
        .filter((target) => target.startsWith(control + sep) && !target.startsWith(join(control, 'core') + sep))
        .map((target) => `${file}: ${relative(control, target)}`),
    );
    expect(offences).toEqual([]);
  });

  it('no file of the app’s brain grows past 350 lines, and the controller, which only forwards, stays under 291', () => {
    const lines = (file: string) => readFileSync(file, 'utf8').split('\n').length;
    expect(sourceFiles(join('main', 'control')).filter((file) => lines(file) > 350)).toEqual([]);
    expect(lines(join('main', 'control', 'controller.ts'))).toBeLessThan(291);
  });

  it('the contract has no run-time imports: the renderer may use it as it is', () => {
    expect(importsOf('main/contract.ts')).toEqual([]);
  });
});
