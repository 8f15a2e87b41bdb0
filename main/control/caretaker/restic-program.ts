import { execFile } from 'node:child_process';
import { findProgram } from '../core/programs.js';

/** restic's answer to `restic version` takes well under a second; a program that hangs is not restic. */
const VERSION_TIMEOUT_MS = 10_000;

/** Where restic is: a configured path, or the first `restic` on PATH; null when there is none. */
export const findRestic = (configured: string | null, path?: string): Promise<string | null> => findProgram('restic', configured, path);

/** How to install restic on this system, in one sentence. */
export function installHint(platform = process.platform): string {
  switch (platform) {
    case 'linux':
      return 'Install restic with your package manager (on Debian or Ubuntu: sudo apt install restic), or give the path of the restic program in Settings.';
    case 'darwin':
      return 'Install restic with Homebrew (brew install restic), or give the path of the restic program in Settings.';
    case 'win32':
      return 'Install restic with winget (winget install restic.restic), or give the path of restic.exe in Settings.';
    default:
      return 'Install restic from your system’s packages, or give the path of the restic program in Settings.';
  }
}

/** The version in `restic version`'s answer ("restic 0.14.0 compiled with go1.19.8 on linux/amd64"); null when it is not restic's. */
export function parseVersion(output: string): string | null {
  return /^restic (\d+\.\d+\.\d+)\b/m.exec(output)?.[1] ?? null;
}

/** Asks the program its version; an error in words when it does not answer as restic does. */
export function readVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['version'], { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
      const version = parseVersion(String(stdout));
      if (version) resolve(version);
      else reject(new Error(error ? `${binary} does not run (${error.message.split('\n')[0]})` : `${binary} does not answer as restic does`));
    });
  });
}
