import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STORE_FILE } from '../../../main/control/caretaker/kept-passwords.js';
import { systemKeychain } from '../../../main/electron/keychain.js';
import { safeStorage } from '../../fakes/electron.js';
import { openController } from '../../helpers/controller.js';
import { RESTIC_PASSWORD, resticOk } from '../../helpers/restic.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { hasTool } from '../../helpers/tools.js';

vi.mock('electron', () => import('../../fakes/electron.js'));

afterEach(() => {
  safeStorage.available = true;
  safeStorage.backend = 'gnome_libsecret';
});

describe('the system keychain for kept passwords (safeStorage)', () => {
  it('seals and opens through safeStorage where the system has a keychain', async () => {
    const keychain = await systemKeychain(safeStorage, 'linux');
    expect(keychain.kind).toBe('keychain');
    expect(keychain.isAvailable()).toBe(true);
    const sealed = await keychain.encrypt('pässword 1');
    expect(sealed.toString()).not.toContain('pässword 1');
    expect(await keychain.decrypt(sealed)).toBe('pässword 1');
  });

  it('is not available without a keyring on Linux (Electron’s basic_text key protects nothing), nor where safeStorage says so', async () => {
    safeStorage.backend = 'basic_text';
    expect((await systemKeychain(safeStorage, 'linux')).isAvailable()).toBe(false);
    expect((await systemKeychain(safeStorage, 'darwin')).isAvailable()).toBe(true);
    safeStorage.available = false;
    expect((await systemKeychain(safeStorage, 'win32')).isAvailable()).toBe(false);
  });

  it.runIf(hasTool('restic'))('the controller seals kept passwords with it, and with the key file when it is not available', { timeout: 60_000 }, async () => {
    const keep = async () => {
      const { controller, configDir } = await openController({ keychain: await systemKeychain(safeStorage, 'linux') });
      const data = tempDir('rts-data-');
      await controller.chooseFolder({ path: data });
      const anna = await controller.addComputer({ displayName: "Anna's laptop" });
      await resticOk(join(data, anna.username), ['init']);
      const state = await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
      expect(await controller.showPassword({ username: anna.username })).toEqual({ password: RESTIC_PASSWORD });
      return { state, store: JSON.parse(readFileSync(join(configDir, STORE_FILE), 'utf8')) as { computers: Record<string, { lock: string }> }, anna };
    };
    const withKeychain = await keep();
    expect(withKeychain.state.caretaker.passwordLock).toBe('keychain');
    expect(withKeychain.store.computers[withKeychain.anna.username]?.lock).toBe('keychain');
    safeStorage.backend = 'basic_text';
    const withoutKeychain = await keep();
    expect(withoutKeychain.state.caretaker.passwordLock).toBe('key-file');
    expect(withoutKeychain.store.computers[withoutKeychain.anna.username]?.lock).toBe('key-file');
  });
});
