import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { writeFileAtomically } from '../core/files.js';
import { logLineReader, lowerPriority, toStats, type RcloneOptions, type RcloneStats } from './rclone.js';

/** What one job of the session gave: as a run of rclone would, with rc's answer instead of standard output. */
export interface RcloneJob {
  ok: boolean;
  /** The session was ended while the job ran. */
  stopped: boolean;
  /** rc's answer (a listing), when it succeeded. */
  result: Record<string, unknown> | null;
  /** rclone's error lines while the job ran, and the job's own error (once). */
  errors: string[];
  /** The files rclone named in its errors. */
  failedFiles: string[];
  stats: RcloneStats | null;
}

const STATS_MS = 1000;
/** How long rclone may take to start listening. */
const START_TIMEOUT_MS = 30_000;
/** How long a session left behind by a crash may take to answer that it quits. */
const LEFTOVER_TIMEOUT_MS = 2000;

/** What rclone answered a call with: its error, in its words. */
class RcloneError extends Error {}

/** Where a session's rclone listens, and its login. */
interface Reachable {
  address: string;
  authorization: string;
}

/**
 * One call of rclone's remote control; rejects with rclone's error (an
 * `RcloneError`), or how the connection failed. node:http, not fetch: a
 * step may take hours, past fetch's five-minute wait for an answer.
 */
function call(to: Reachable, path: string, params: Record<string, unknown>, agent?: Agent, timeoutMs?: number): Promise<Record<string, unknown>> {
  const body = JSON.stringify(params);
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${to.address}/${path}`, {
      method: 'POST',
      agent,
      headers: { authorization: to.authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    if (timeoutMs !== undefined) request.setTimeout(timeoutMs, () => request.destroy(new Error(`rclone did not answer ${path} in time.`)));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        let answer: Record<string, unknown>;
        try {
          answer = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        } catch {
          reject(new Error(`rclone answered ${path} with something other than JSON.`));
          return;
        }
        if (response.statusCode === 200) resolve(answer);
        else reject(new RcloneError(typeof answer.error === 'string' ? answer.error : `rclone answered ${response.statusCode} to ${path}`));
      });
    });
    request.end(body);
  });
}

/**
 * Ends the rclone of a session the app could not close (it crashed or was
 * killed during a copy), from what it left in `file`: asked to quit with
 * its own login, so that nothing is ever killed by a process number that
 * may since belong to another program.
 */
async function endLeftover(file: string): Promise<void> {
  const left = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as Reachable,
    () => null,
  );
  if (left) await call(left, 'core/quit', {}, undefined, LEFTOVER_TIMEOUT_MS).catch(() => undefined);
  await rm(file, { force: true });
}

/**
 * One rclone for a whole copy (`rclone rcd`), whose jobs run one after the
 * other and share its connections: each of a copy's ordered steps as its
 * own rclone run opened new SSH or HTTPS connections (0.3 to 0.5 s a step
 * over SFTP); here only the first step does. It listens on a loopback port
 * chosen by the system, behind a login made for this session alone and
 * handed over in its environment (never on its command line, which other
 * users see). `signal` (and `close`) end it; a job running then reports
 * `stopped`.
 */
export class RcloneSession {
  private errors: string[] = [];
  private failedFiles: string[] = [];
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly child: ChildProcess,
    private readonly reachable: Reachable,
    private readonly leftoverFile: string | undefined,
  ) {}

  /**
   * Starts rclone with these global flags (`--immutable`, `--bwlimit`): they
   * hold for every job. `leftoverFile` (in the config folder) holds where it
   * is and its login while it runs: a session the app could not close is
   * ended by the next one.
   */
  static async open(options: RcloneOptions & { flags?: string[]; background?: boolean; leftoverFile?: string }): Promise<RcloneSession> {
    if (options.leftoverFile) await endLeftover(options.leftoverFile);
    const session = await RcloneSession.start(options);
    if (options.leftoverFile) {
      await writeFileAtomically(options.leftoverFile, JSON.stringify(session.reachable)).catch(async (error: Error) => {
        await session.close();
        throw error;
      });
    }
    return session;
  }

  private static start(options: RcloneOptions & { flags?: string[]; background?: boolean; leftoverFile?: string }): Promise<RcloneSession> {
    const user = 'restic-tray-server';
    const password = randomBytes(24).toString('base64url');
    const child = spawn(options.binary, ['rcd', '--rc-addr', '127.0.0.1:0', '--config', options.configFile, '--use-json-log', ...(options.flags ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, RCLONE_RC_USER: user, RCLONE_RC_PASS: password },
      windowsHide: true,
    });
    if (options.background) lowerPriority(child);
    const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      let session: RcloneSession | undefined;
      const early: string[] = [];
      const timer = setTimeout(() => fail(new Error('rclone did not start its remote control in time.')), START_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill();
        reject(error);
      };
      const stop = () => child.kill();
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener('abort', stop, { once: true });
      child.once('close', () => {
        options.signal?.removeEventListener('abort', stop);
        if (!session) fail(new Error(early.at(-1) ?? 'rclone stopped before its remote control started.'));
      });
      child.once('error', fail);
      child.stderr?.on(
        'data',
        logLineReader({
          onError: (message, object) => {
            if (!session) early.push(message);
            session?.noteError(message, object);
          },
          onNotice: (message) => {
            const listening = /Serving remote control on (http:\/\/127\.0\.0\.1:\d+)\//.exec(message);
            if (!listening || session) return;
            clearTimeout(timer);
            session = new RcloneSession(child, { address: listening[1] as string, authorization }, options.leftoverFile);
            resolve(session);
          },
        }),
      );
    });
  }

  private noteError(message: string, object: string | undefined): void {
    this.errors.push(message);
    if (object) this.failedFiles.push(object);
  }

  private call(path: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    return call(this.reachable, path, params, this.agent);
  }

  /**
   * Runs `path` (`sync/copy`, `operations/list`, ...) and waits for its end,
   * its statistics to `onStats` every second and once at its end.
   */
  async job(path: string, params: Record<string, unknown>, onStats?: (stats: RcloneStats) => void): Promise<RcloneJob> {
    this.errors = [];
    this.failedFiles = [];
    const group = `job-${randomBytes(6).toString('hex')}`;
    let stats: RcloneStats | null = null;
    let running = true;
    const readStats = async () => {
      const latest = toStats(await this.call('core/stats', { group }));
      if (!running) return;
      stats = latest;
      onStats?.(latest);
    };
    const ticker = onStats && setInterval(() => readStats().catch(() => undefined), STATS_MS);
    const end = async (answer: Omit<RcloneJob, 'stats' | 'failedFiles'>): Promise<RcloneJob> => {
      clearInterval(ticker);
      running = false;
      if (!answer.stopped) {
        stats = toStats(await this.call('core/stats', { group }));
        onStats?.(stats);
      }
      return { ...answer, failedFiles: this.failedFiles, stats };
    };
    try {
      const result = await this.call(path, { ...params, _group: group });
      return await end({ ok: true, stopped: false, result, errors: this.errors });
    } catch (error) {
      if (this.child.killed || this.child.exitCode !== null) return end({ ok: false, stopped: true, result: null, errors: this.errors });
      if (!(error instanceof RcloneError)) throw error;
      return end({ ok: false, stopped: false, result: null, errors: [...new Set([...this.errors, error.message])] });
    }
  }

  /** Ends rclone: a transfer under way is cut off where it is, as when rclone is killed. */
  async close(): Promise<void> {
    this.child.kill();
    this.agent.destroy();
    if (this.leftoverFile) await rm(this.leftoverFile, { force: true });
  }
}
