import { join } from 'node:path';
import type { ComputerCare, RetentionPolicy } from '../../contract.js';
import { emptyCare, readCareRecord, writeCareRecord, type CareRecord, type RepoCare } from '../../../server/care-record.js';
import { readDiskId } from '../../../server/disk-guard.js';
import { createSyncer } from '../../../server/fsync.js';
import { formatBytes } from '../../common/format-bytes.js';
import { bytesUnder } from '../core/files.js';
import type { ComputerRecord, DiskRecord } from '../core/settings.js';
import type { Shared } from '../core/shared.js';
import { checkSubset, dueJob, retentionDueAt, type CareJob } from './care-schedule.js';
import type { ResticResult, ResticRuns } from './restic-runs.js';
import { policyFlags, presetOf, removedCount } from './retention.js';

/** What the upkeep needs from the caretaker and, through the controller, from other rooms. */
export interface UpkeepHooks {
  kept(username: string): boolean;
  password(username: string): Promise<string>;
  policyOf(computer: ComputerRecord): RetentionPolicy;
  /** The restic version on the desktop, for the repair's commands. */
  resticVersion(): string | null;
  /** The computer's last request to the server and its newest snapshot (the activity room knows). */
  activityOf(username: string): { lastRequestAt: number | null; lastBackupAt: number | null };
  /** Whether an offsite copy runs now (the offsite room knows). */
  copying(): boolean;
  /** Space a retention run freed on a disk, for its usage forecast (the disks room keeps it). */
  spaceFreed(diskId: string, bytes: number): void;
}

type Job = CareJob | 'repair';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const UNPLUGGED = 'the backup disk was unplugged while restic worked; it runs again later';

/** restic 0.16 renamed rebuild-index to `repair index` and added `repair snapshots`. */
export function repairSteps(version: string | null): string[][] {
  const [major = 0, minor = 0] = (version ?? '0.0.0').split('.').map(Number);
  return major > 0 || minor >= 16 ? [['repair', 'index'], ['repair', 'snapshots', '--forget']] : [['rebuild-index']];
}

/**
 * The desktop's own restic runs on the disk in use, per computer whose
 * password is kept: the weekly retention (forget --prune), the monthly check
 * of a twelfth of the data, and the repair after the integrity check found
 * damage. One run at a time; each stops at once (SIGKILL, so that nothing
 * more is written where the disk was) when the disk goes. What they did is
 * kept in the disk's care record.
 */
export class Upkeep {
  private current: { username: string; job: Job; diskId: string; stop: AbortController; done: Promise<void> } | undefined;
  /** Each disk's care record, read once when it is first served. */
  private readonly records = new Map<string, CareRecord>();
  /** Repositories whose last run was stopped hard: restic's stale lock is removed before the next. */
  private readonly stopped = new Set<string>();
  private readonly syncer = createSyncer((message) => this.shared.emit('note', message, 'warning'));

  constructor(
    private readonly shared: Shared,
    private readonly runs: ResticRuns,
    private readonly hooks: UpkeepHooks,
  ) {
    shared.supervisor.on('change', () => {
      const run = this.current;
      if (run && (shared.supervisor.phase === 'disk-missing' || (shared.supervisor.disk && shared.supervisor.disk.id !== run.diskId))) run.stop.abort();
    });
    shared.on('tick', () => void this.onTick());
  }

  private now(): number {
    return this.shared.options.now?.() ?? Date.now();
  }

  /** The disk served now, when it is there. */
  private servedDisk(): DiskRecord | undefined {
    const { supervisor, settings } = this.shared;
    if (supervisor.phase !== 'serving' || !supervisor.disk) return undefined;
    return settings.disks.find((disk) => disk.id === supervisor.disk?.id);
  }

  /** What the page shows for each computer: from the record of the disk in use (or the last one read). */
  views(): ComputerCare[] {
    const disk = this.servedDisk() ?? this.shared.currentDisk();
    const record = disk ? this.records.get(disk.id) : undefined;
    return this.shared.settings.computers.map((computer) => {
      const care = record?.repos[computer.username] ?? emptyCare();
      const policy = this.hooks.policyOf(computer);
      const lastBackupAt = this.hooks.activityOf(computer.username).lastBackupAt;
      const repair = care.repair;
      return {
        username: computer.username,
        policy,
        preset: presetOf(policy),
        running: this.current?.username === computer.username ? this.current.job : null,
        lastRetention: care.retention,
        retentionDueAt: this.hooks.kept(computer.username) ? new Date(retentionDueAt(care, this.now())).toISOString() : null,
        lastCheck: care.check,
        repair: repair && { ...repair, healedAt: repair.ok && lastBackupAt !== null && lastBackupAt > Date.parse(repair.at) ? new Date(lastBackupAt).toISOString() : null },
      };
    });
  }

  /** Starts a run now; refused in words while another runs. */
  start(computer: ComputerRecord, disk: DiskRecord, job: Job): void {
    if (this.current) throw new Error(`restic is already working on the backups of ${this.shared.computer(this.current.username)?.displayName ?? this.current.username}: try again when it is done.`);
    const stop = new AbortController();
    const run = { username: computer.username, job, diskId: disk.id, stop, done: Promise.resolve() };
    this.current = run;
    run.done = this.perform(computer, disk, job, stop.signal).finally(() => {
      if (this.current === run) this.current = undefined;
      this.shared.changed();
    });
    this.shared.changed();
  }

  /** Waits until no run is under way. */
  async settled(): Promise<void> {
    while (this.current) await this.current.done;
  }

  /** The repair after the integrity check moved damaged files aside; true once the index no longer names them. */
  async repair(computer: ComputerRecord, disk: DiskRecord): Promise<boolean> {
    await this.settled();
    this.start(computer, disk, 'repair');
    await this.settled();
    return (await this.recordOf(disk)).repos[computer.username]?.repair?.ok === true;
  }

  /** Waits for the run under way to end (the caretaker has stopped its restic with SIGINT first). */
  async close(): Promise<void> {
    await this.current?.done.catch(() => undefined);
  }

  private async recordOf(disk: DiskRecord): Promise<CareRecord> {
    let record = this.records.get(disk.id);
    if (!record) {
      record = await readCareRecord(disk.folder);
      this.records.set(disk.id, record);
    }
    return record;
  }

  private async onTick(): Promise<void> {
    const run = this.current;
    if (run) {
      const disk = this.shared.settings.disks.find((candidate) => candidate.id === run.diskId);
      if (!disk || (await readDiskId(disk.folder).catch(() => undefined)) !== disk.id) run.stop.abort();
      return;
    }
    const disk = this.servedDisk();
    if (!disk) return;
    try {
      const record = await this.recordOf(disk);
      for (const computer of this.shared.settings.computers) {
        const activity = this.hooks.activityOf(computer.username);
        const job = dueJob({
          now: this.now(),
          kept: this.hooks.kept(computer.username),
          ...activity,
          copying: this.hooks.copying(),
          record: record.repos[computer.username] ?? emptyCare(),
        });
        if (job && !this.current) return this.start(computer, disk, job);
      }
    } catch (error) {
      this.shared.emit('note', `The desktop cannot look after the backups now: ${(error as Error).message}`, 'warning');
    }
  }

  private async perform(computer: ComputerRecord, disk: DiskRecord, job: Job, signal: AbortSignal): Promise<void> {
    const repo = join(disk.folder, computer.username);
    const name = computer.displayName;
    const at = new Date(this.now()).toISOString();
    let care: Partial<RepoCare>;
    try {
      const password = await this.hooks.password(computer.username);
      const run = (args: string[], purpose: string, json = false) => this.runs.run(args, { repo, password, purpose, json, signal });
      if (this.stopped.delete(repo)) await run(['unlock'], `Removing the lock a stopped run left in ${name}’s backups`);
      if (job === 'retention') care = { retention: await this.retention(computer, disk, run, at) };
      else if (job === 'check') care = { check: await this.check(name, run, at) };
      else care = { repair: await this.repairRun(run, name, at) };
    } catch (error) {
      const problem = (error as Error).message;
      care = job === 'retention' ? { retention: { at, ok: false, removed: 0, freedBytes: 0, problem } } : job === 'check' ? { check: { at, outcome: 'failed', subset: checkSubset(this.now()), problem } } : { repair: { at, ok: false, steps: [], problem } };
    }
    if (signal.aborted) {
      this.stopped.add(repo);
      care = job === 'retention' ? { retention: { at, ok: false, removed: 0, freedBytes: 0, problem: UNPLUGGED } } : job === 'check' ? { check: { at, outcome: 'failed', subset: checkSubset(this.now()), problem: UNPLUGGED } } : { repair: { at, ok: false, steps: [], problem: UNPLUGGED } };
      this.shared.emit('note', `restic on ${name}’s backups was stopped: ${UNPLUGGED}.`, 'warning');
    }
    const record = await this.recordOf(disk);
    const repos = { ...record.repos, [computer.username]: { ...(record.repos[computer.username] ?? emptyCare()), ...care } };
    // On the disk before the page shows it (a server's /metrics reads the disk's record); never written into a bare mount point: with the disk away the record waits in memory.
    if ((await readDiskId(disk.folder).catch(() => undefined)) === disk.id) {
      await writeCareRecord(disk.folder, { ...record, repos }, this.syncer).catch((error: Error) => this.shared.emit('note', `The record of the desktop’s runs on “${disk.label}” cannot be written: ${error.message}`, 'warning'));
    }
    record.repos = repos;
  }

  private async retention(computer: ComputerRecord, disk: DiskRecord, run: (args: string[], purpose: string, json?: boolean) => Promise<ResticResult>, at: string) {
    const repo = join(disk.folder, computer.username);
    const before = await bytesUnder(repo);
    const result = await run(['forget', '--prune', ...policyFlags(this.hooks.policyOf(computer))], `Removing the old backups of ${computer.displayName} and freeing their space`, true);
    // A disk that cannot be read any more after the run frees nothing we can tell.
    const freedBytes = Math.max(0, before - (await bytesUnder(repo).catch(() => before)));
    if (!result.ok) return { at, ok: false, removed: 0, freedBytes, problem: result.failure };
    const removed = removedCount(result.json);
    if (freedBytes > 0) this.hooks.spaceFreed(disk.id, freedBytes);
    this.shared.emit('note', `Retention for ${computer.displayName}: ${plural(removed, 'old backup')} removed, ${formatBytes(freedBytes)} freed.`, 'info');
    return { at, ok: true, removed, freedBytes, problem: null };
  }

  private async check(name: string, run: (args: string[], purpose: string) => Promise<ResticResult>, at: string) {
    const subset = checkSubset(this.now());
    const result = await run(['check', `--read-data-subset=${subset}`], `Checking ${name}’s backups with restic (part ${subset} of the data)`);
    if (result.ok) return { at, outcome: 'ok' as const, subset, problem: null };
    const damaged = /repository contains errors/.test(result.stderr);
    const detail = `${result.stdout}\n${result.stderr}`.split('\n').find((line) => /error|damaged|not found|missing/i.test(line) && !line.startsWith('Fatal'))?.trim();
    const problem = damaged ? `restic found damage in the backups${detail ? ` (${detail})` : ''}` : (result.failure ?? 'restic stopped');
    return { at, outcome: damaged ? ('damaged' as const) : ('failed' as const), subset, problem };
  }

  private async repairRun(run: (args: string[], purpose: string) => Promise<ResticResult>, name: string, at: string) {
    const steps = repairSteps(this.hooks.resticVersion());
    for (const step of steps) {
      const result = await run(step, `Repairing ${name}’s backups after the integrity check (restic ${step.join(' ')})`);
      if (!result.ok) return { at, ok: false, steps: steps.map((s) => s.join(' ')), problem: result.failure };
    }
    this.shared.emit('note', `${name}’s backups were repaired by the desktop: the next backup of ${name} puts back what the damaged files held.`, 'info');
    return { at, ok: true, steps: steps.map((s) => s.join(' ')), problem: null };
  }
}
