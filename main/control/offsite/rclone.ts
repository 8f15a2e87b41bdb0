import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { findProgram } from '../core/programs.js';

/** rclone's accounting, from its JSON log: what the progress bar shows. */
export interface RcloneStats {
  bytes: number;
  totalBytes: number;
  /** Bytes per second. */
  speed: number;
  /** Seconds left, when rclone can tell. */
  eta: number | null;
  transfers: number;
  errors: number;
}

export interface RcloneRun {
  code: number | null;
  /** What rclone wrote on standard output (listings). */
  output: string;
  /** rclone's error lines, as it wrote them. */
  errors: string[];
  /** The files rclone named in its errors (relative to the copy's root). */
  failedFiles: string[];
  stats: RcloneStats | null;
}

export interface RcloneOptions {
  binary: string;
  /** rclone's configuration file (the remotes); never the user's own unless asked for. */
  configFile: string;
  signal?: AbortSignal;
  onStats?: (stats: RcloneStats) => void;
  /** Written to rclone's standard input (a secret never goes on the command line, where other users see it). */
  input?: string;
}

/** A nice value of 10 (Windows: below normal). */
const BACKGROUND_PRIORITY = 10;

/** Where rclone is: a configured path, or the first `rclone` on PATH; null when there is none. */
export const findRclone = (configured: string | null, path?: string): Promise<string | null> => findProgram('rclone', configured, path);

/** How to install rclone on this system, in one sentence. */
export function installHint(platform = process.platform): string {
  switch (platform) {
    case 'linux':
      return 'Install rclone with your package manager (for example: sudo apt install rclone), or give the path of the rclone program.';
    case 'darwin':
      return 'Install rclone with Homebrew (brew install rclone), or give the path of the rclone program.';
    case 'win32':
      return 'Install rclone with winget (winget install Rclone.Rclone) or scoop (scoop install rclone), or give the path of rclone.exe.';
    default:
      return 'Install rclone from your system’s packages, or give the path of the rclone program.';
  }
}

export function toStats(raw: Record<string, unknown>): RcloneStats {
  const number = (key: string) => (typeof raw[key] === 'number' ? (raw[key] as number) : 0);
  return {
    bytes: number('bytes'),
    totalBytes: number('totalBytes'),
    speed: number('speed'),
    eta: typeof raw.eta === 'number' ? raw.eta : null,
    transfers: number('transfers'),
    errors: number('errors'),
  };
}

/** Background work (a copy): rclone at a lower priority, so that backups arriving meanwhile keep the processor. */
export function lowerPriority(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    setPriority(child.pid, BACKGROUND_PRIORITY);
  } catch {
    // Not allowed here: it runs at the normal priority.
  }
}

/**
 * A reader of rclone's JSON log (`--use-json-log`) as it arrives on
 * standard error, line by line: error lines with the file they name, the
 * statistics, notices. Returns the function for the stream's `data`
 * events; `end` reads what is left after the last line break.
 */
export function logLineReader(handlers: {
  onError: (message: string, object: string | undefined) => void;
  onStats?: (stats: RcloneStats) => void;
  onNotice?: (message: string) => void;
}): ((chunk: Buffer) => void) & { end: () => void } {
  let pending = '';
  const readLine = (line: string) => {
    if (line.trim() === '') return;
    let entry: { level?: string; msg?: string; object?: string; stats?: Record<string, unknown> };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // Before its JSON log starts (a bad configuration, an unknown remote) rclone writes plain lines with a time in front.
      handlers.onError(line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*: )?/, '').trim(), undefined);
      return;
    }
    if (entry.stats) handlers.onStats?.(toStats(entry.stats));
    else if (entry.level === 'error' || entry.level === 'critical') handlers.onError((entry.msg ?? '').trim(), entry.object);
    else handlers.onNotice?.((entry.msg ?? '').trim());
  };
  return Object.assign(
    (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(readLine);
    },
    { end: () => readLine(pending) },
  );
}

/**
 * Runs rclone with these arguments as a child process (never a shell), with
 * its JSON log and statistics every second; the statistics go to `onStats`,
 * the error lines are kept. `signal` stops it.
 */
export function runRclone(args: string[], options: RcloneOptions): Promise<RcloneRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.binary, [...args, '--config', options.configFile, '--use-json-log', '--stats', '1s', '--stats-log-level', 'NOTICE'], {
      stdio: 'pipe',
      signal: options.signal,
      windowsHide: true,
    });
    child.stdin.end(options.input);
    const errors: string[] = [];
    const failedFiles: string[] = [];
    let stats: RcloneStats | null = null;
    const log = logLineReader({
      onError: (message, object) => {
        errors.push(message);
        if (object) failedFiles.push(object);
      },
      onStats: (latest) => {
        stats = latest;
        options.onStats?.(latest);
      },
    });
    child.stderr.on('data', log);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code === 'ABORT_ERR') return;
      reject(error);
    });
    child.on('close', (code) => {
      log.end();
      resolve({ code, output, errors, failedFiles, stats });
    });
  });
}
