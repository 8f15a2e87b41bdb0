import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { app } from 'electron';

export const HIDDEN_FLAG = '--hidden';
const DESKTOP_FILE = 'restic-tray-server.desktop';

/** Quotes a value for the Exec key of a .desktop file (the Desktop Entry Specification's rules). */
const quoteExec = (value: string): string => (/^[\w/.+-]+$/.test(value) ? value : `"${value.replace(/(["`$\\])/g, '\\$1')}"`);

/** The autostart entry for Linux desktops (freedesktop.org Desktop Application Autostart). */
export function desktopEntry(executable: string, args: string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Restic Tray Server',
    'Comment=Keeps the backups of the family’s computers',
    `Exec=${[executable, ...args, HIDDEN_FLAG].map(quoteExec).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** Starts the app at login, hidden in the tray: a .desktop file on Linux, the system's login items elsewhere. */
export async function setAutostart(enabled: boolean, platform: NodeJS.Platform = process.platform, configHome = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')): Promise<void> {
  if (platform === 'linux') {
    const folder = join(configHome, 'autostart');
    const file = join(folder, DESKTOP_FILE);
    if (!enabled) return rm(file, { force: true });
    await mkdir(folder, { recursive: true });
    // An AppImage runs from a temporary mount; its own path is in APPIMAGE.
    const executable = process.env.APPIMAGE ?? process.execPath;
    await writeFile(file, desktopEntry(executable, app.isPackaged ? [] : [app.getAppPath()]));
    return;
  }
  app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_FLAG] });
}
