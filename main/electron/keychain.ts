import type { SafeStorage } from 'electron';
import type { Keychain } from '../control/controller.js';

/**
 * The system keychain (macOS Keychain, Windows DPAPI, the Secret Service or
 * KWallet on Linux) through Electron's safeStorage, for the kept encryption
 * passwords. Asked once the app is ready. On Linux without a keyring
 * Electron falls back to a key written in its own code (`basic_text`),
 * which protects nothing: the app then uses its key file instead.
 */
export async function systemKeychain(
  safeStorage: Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'getSelectedStorageBackend' | 'encryptStringAsync' | 'decryptStringAsync'>,
  platform = process.platform,
): Promise<Keychain> {
  const available = (await safeStorage.isAsyncEncryptionAvailable()) && !(platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text');
  return {
    kind: 'keychain',
    isAvailable: () => available,
    encrypt: (text) => safeStorage.encryptStringAsync(text),
    decrypt: async (sealed) => (await safeStorage.decryptStringAsync(sealed)).result,
  };
}
