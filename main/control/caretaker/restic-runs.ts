import { spawn, type ChildProcess } from 'node:child_process';
import { constants, setPriority } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { findProgram } from '../core/programs.js';

export interface ResticRun {
  /** The repository's folder on the backup disk: restic reads it directly (its local backend). */
  repo: string;
  /** The repository's encryption password: handed to restic on its standard input, never in its arguments or environment. */
  password: string;
  /** What the run is for, in words, for the live log ("Checking the encryption password of Anna's laptop"). */
  purpose: string;
  /** Adds `--json` and parses what restic writes (one document, or one per line). */
  json?: boolean;
  /** Stops the run at once (SIGKILL): the disk it works on is gone, and nothing more may be written where it was. */
  signal?: AbortSignal;
  /** Runs at the lowest CPU priority: it measures something on the side and must not slow down what the family waits for. */
  background?: boolean;
}

export interface ResticResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  /** What restic reported besides its answer (with --json, prune's figures are there). */
  stderr: string;
  /** restic's JSON answer: one value, or an array of the lines' values; null without `json`. */
  json: unknown;
  /** Why it failed, in words; null when it worked. */
  failure: string | null;
  /** restic said the password does not open the repository. */
  wrongPassword: boolean;
}

/** A run whose standard output is read as it comes (a dump of gigabytes never sits in memory). */
export interface ResticStream {
  stdout: Readable;
  /** How it ended, once restic exited (`stdout` and `json` stay empty: the output went to the reader). */
  done: Promise<ResticResult>;
  /** Stops restic: SIGINT (it removes its lock), then SIGKILL if it is still there a few seconds later. */
  cancel(): void;
}

/** How long a cancelled restic may take to remove its lock and stop before it is killed. */
const CANCEL_GRACE_MS = 5000;

/** Signals the live log: each run's outcome in words. */
export type Note = (message: string, severity: 'info' | 'warning' | 'error') => void;

/** restic's fatal errors, said for a family member. */
export function describeFailure(stderr: string, code: number | null): string {
  if (/wrong password or no key found/.test(stderr)) return 'the password does not open these backups';
  if (/unable to open config file|Is there a repository at the following location/.test(stderr)) return 'there are no backups in that folder';
  if (/repository is already locked|unable to create lock/.test(stderr)) return 'another restic is working on these backups; it is tried again later';
  if (/no space left on device/.test(stderr)) return 'the disk it was writing to is full; make room on it, then try again';
  const fatal = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const last = fatal.findLast((line) => line.startsWith('Fatal: ')) ?? fatal.at(-1);
  return last ? last.replace(/^Fatal: /, '') : code === null ? 'restic was stopped' : `restic stopped with code ${code}`;
}

/** One JSON document, or JSON lines (restic's progress and summaries); lines of text among them (prune's report after forget's JSON) are left out. */
export function parseJson(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text
      .split('\n')
      .filter((line) => line.trim().startsWith('{') || line.trim().startsWith('['))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as unknown];
        } catch {
          // "[0:00] 100.00%  3 / 3 snapshots": a progress line, not JSON.
          return [];
        }
      });
  }
}

/** The environment restic runs with: this process's, without any RESTIC_ variable (a repository or password set for the user's own restic must not leak in), and the app's cache. */
function resticEnv(cacheDir: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toUpperCase().startsWith('RESTIC_')));
  return { ...env, RESTIC_CACHE_DIR: cacheDir };
}

/**
 * Every run of restic on the desktop goes through here: restic found by
 * `program`, no shell (an argument array), the password on standard input,
 * each run kept until it ends so that quitting stops it (SIGINT: restic
 * removes its lock as it stops), and its outcome in the live log.
 */
export class ResticRuns {
  private readonly running = new Set<ChildProcess>();
  private closed = false;

  constructor(
    /** The restic program to run; throws an error in words when there is none. */
    private readonly program: () => Promise<string>,
    private readonly cacheDir: string,
    private readonly note: Note,
  ) {}

  async run(args: string[], run: ResticRun): Promise<ResticResult> {
    const binary = await this.program();
    // Checked after looking for restic too: the app may have begun to quit meanwhile.
    if (this.closed) throw new Error('The app is quitting: restic is not started any more.');
    const child = spawn(binary, ['--repo', run.repo, ...(run.json ? ['--json'] : []), ...args], {
      stdio: 'pipe',
      env: resticEnv(this.cacheDir),
      windowsHide: true,
    });
    this.running.add(child);
    const stop = () => child.kill('SIGKILL');
    if (run.signal?.aborted) stop();
    run.signal?.addEventListener('abort', stop, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // restic may exit before reading its input (a missing repository): a closed pipe is no error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${run.password}\n`);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    }).finally(() => {
      this.running.delete(child);
      run.signal?.removeEventListener('abort', stop);
    });
    // restic says where the password came from on standard output, ahead of its JSON.
    stdout = stdout.replace(/^reading repository password from stdin\r?\n/, '');
    const ok = code === 0;
    const failure = ok ? null : describeFailure(stderr, code);
    let json: unknown = null;
    if (ok && run.json) json = parseJson(stdout);
    this.note(ok ? `${run.purpose}: done.` : `${run.purpose}: it did not work, ${failure}.`, ok ? 'info' : 'warning');
    return { ok, code, stdout, stderr, json, failure, wrongPassword: /wrong password or no key found/.test(stderr) || code === 12 };
  }

  /**
   * Runs restic as `run` does, its standard output handed over as a stream
   * instead of kept; registered like every run, so that quitting stops it.
   * A cancelled run ends without a note of failure: the user stopped it.
   */
  async stream(args: string[], run: ResticRun): Promise<ResticStream> {
    const { stdout, done, cancel } = await this.start(args, run, 'pipe');
    return { stdout: stdout as Readable, done, cancel };
  }

  /** As `stream`, restic writing its standard output straight into `fd`, a file open for writing (a download saved on the desktop): its bytes never pass through the app. */
  async streamInto(args: string[], run: ResticRun, fd: number): Promise<Omit<ResticStream, 'stdout'>> {
    const { done, cancel } = await this.start(args, run, fd);
    return { done, cancel };
  }

  private async start(args: string[], run: ResticRun, output: 'pipe' | number): Promise<Omit<ResticStream, 'stdout'> & { stdout: Readable | null }> {
    const binary = await this.program();
    // On Linux a process's priority is its threads' each, so restic starts under `nice`; elsewhere the whole process is lowered.
    const nice = run.background && process.platform === 'linux' ? await findProgram('nice', null) : null;
    if (this.closed) throw new Error('The app is quitting: restic is not started any more.');
    // --quiet: without it restic writes where the password came from on standard output, ahead of a dumped file's bytes.
    const command = [binary, '--repo', run.repo, '--quiet', ...(run.json ? ['--json'] : []), ...args];
    const child = spawn(nice ?? binary, nice ? ['-n', '19', ...command] : command.slice(1), {
      stdio: ['pipe', output, 'pipe'],
      env: resticEnv(this.cacheDir),
      windowsHide: true,
    });
    if (run.background && !nice && child.pid !== undefined) {
      try {
        setPriority(child.pid, constants.priority.PRIORITY_LOW);
      } catch {
        // Gone already, or not allowed: it runs at the usual priority.
      }
    }
    this.running.add(child);
    let stderr = '';
    let cancelled = false;
    // Both are pipes (spawned so above).
    const [input, errors] = [child.stdin as Writable, child.stderr as Readable];
    errors.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    input.on('error', () => undefined);
    input.end(`${run.password}\n`);
    const done = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    })
      .finally(() => this.running.delete(child))
      .then((code): ResticResult => {
        const ok = code === 0 && !cancelled;
        const failure = ok ? null : cancelled ? 'it was cancelled' : describeFailure(stderr, code);
        if (!cancelled) this.note(ok ? `${run.purpose}: done.` : `${run.purpose}: it did not work, ${failure}.`, ok ? 'info' : 'warning');
        return { ok, code, stdout: '', stderr, json: null, failure, wrongPassword: /wrong password or no key found/.test(stderr) || code === 12 };
      });
    const cancel = () => {
      if (cancelled || child.exitCode !== null || child.signalCode !== null) return;
      cancelled = true;
      child.kill('SIGINT');
      const kill = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
      child.once('close', () => clearTimeout(kill));
    };
    return { stdout: child.stdout, done, cancel };
  }

  /** Stops every run under way and waits for each to end. */
  async close(): Promise<void> {
    this.closed = true;
    const ending = [...this.running].map((child) => new Promise((resolve) => child.once('close', resolve)));
    for (const child of this.running) child.kill('SIGINT');
    await Promise.all(ending);
  }
}
