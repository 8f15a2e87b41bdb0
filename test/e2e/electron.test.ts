import { join } from 'node:path';
import { _electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { electronBinary } from '../../main/electron-binary.js';
import { tempDir } from '../helpers/temp-dir.js';

const binary = electronBinary();
if (!binary) console.warn('skipping the Electron app tests: the Electron binary is not installed here (it cannot be downloaded offline)');

describe.skipIf(!binary)('the Electron app', () => {
  it('opens the set-up in a sandboxed window with window.api and no Node', { timeout: 60_000 }, async () => {
    const app = await _electron.launch({
      executablePath: binary as string,
      args: ['dist/main/electron/main.js', `--user-data-dir=${join(tempDir('rts-electron-'), 'profile')}`],
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Set up Restic Tray Server' }).waitFor();
      expect(page.url()).toBe('app://gui/index.html');
      expect(await page.evaluate('typeof require + typeof process')).toBe('undefinedundefined');
      expect(await page.evaluate('Object.keys(window.api).includes("getState")')).toBe(true);
      expect(await page.evaluate('window.api.getState().then((state) => state.status)')).toBe('stopped');
    } finally {
      await app.close();
    }
  });
});
