import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../control/core/files.js';
import type { Bridge } from './bridge.js';

/**
 * The GUI's access key and port, kept between starts (readable only by this
 * user) so that its address stays the same and can be bookmarked.
 */
export const ACCESS_FILE = 'headless.json';
/**
 * The GUI's whole address, key included, for the person who runs headless
 * mode: under a service manager stdout goes to a log that others may read,
 * so the key is printed only to a terminal and otherwise found here.
 */
export const ADDRESS_FILE = 'gui-address.txt';

export interface GuiAccess {
  token: string;
  /** The port the GUI had last time; null when there was none. */
  port: number | null;
  /** The file was there but unusable (damaged, or edited by hand): a new key was made. */
  damaged: boolean;
}

export const newToken = (): string => randomBytes(32).toString('base64url');

/** The address to open: the key in the fragment, which browsers never send to any server. */
export const guiUrl = (origin: string, token: string): string => `${origin}/#token=${token}`;

/** What the last start kept, or a fresh key when there is nothing usable. */
export async function loadGuiAccess(configDir: string): Promise<GuiAccess> {
  let saved: { token?: unknown; port?: unknown } | null;
  try {
    saved = JSON.parse(await readFile(join(configDir, ACCESS_FILE), 'utf8')) as typeof saved;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { token: newToken(), port: null, damaged: false };
    saved = null;
  }
  const token = saved?.token;
  const port = saved?.port;
  if (typeof token !== 'string' || !/^[\w-]{43}$/.test(token)) return { token: newToken(), port: null, damaged: true };
  return { token, port: typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : null, damaged: false };
}

/** Keeps the key and port for the next start, and the whole address in its own file: both written whole, readable only by this user. */
export async function saveGuiAccess(configDir: string, origin: string, token: string): Promise<string> {
  const url = guiUrl(origin, token);
  await writeFileAtomically(join(configDir, ACCESS_FILE), `${JSON.stringify({ token, port: Number(new URL(origin).port) })}\n`);
  await writeFileAtomically(join(configDir, ADDRESS_FILE), `${url}\n`);
  return url;
}

/** A new key: written to the files first (when that fails, the old key stays in use and the error is shown), then the old one stops working at once. Returns the new address. */
export async function renewGuiAccess(configDir: string, bridge: Bridge): Promise<string> {
  const token = newToken();
  const url = await saveGuiAccess(configDir, bridge.origin, token);
  bridge.setToken(token);
  return url;
}
