import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AppState, IntegrityFinding, IntegrityView } from '../../contract.js';
import { hashFile, tempPathIn } from '../../../server/atomic-write.js';
import { readDiskId } from '../../../server/disk-guard.js';
import { createSyncer } from '../../../server/fsync.js';
import { readScrubState, scrub, settleFindings, type Finding, type ScrubCounts, type ScrubState } from '../../../server/scrub/scrub.js';
import { formatBytes } from '../../common/format-bytes.js';
import { UserError } from '../core/errors.js';
import type { DiskRecord } from '../core/settings.js';
import type { Shared } from '../core/shared.js';

const DAY_MS = 86_400_000;
/** No request from any computer for this long: the server is idle, a due check may start and reads go at full speed. */
export const IDLE_MS = 60_000;
/** The check's reading pace while backups arrive, so that they keep their speed. */
export const BUSY_BYTES_PER_SECOND = 8 << 20;
/** How often a running check's progress is published. */
const PROGRESS_EVERY_MS = 2000;

interface Run {
  diskId: string;
  stop: AbortController;
  counts: ScrubCounts;
  done: Promise<void>;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const toView = (finding: Finding): IntegrityFinding => ({
  file: finding.file,
  damage: finding.damage,
  detail: finding.detail,
  quarantined: finding.quarantined ?? null,
  foundAt: finding.foundAt,
});

/**
 * The integrity checks of the backup disk (the server's scrub, see
 * server/scrub/scrub.ts): a full pass every `integrityDays`, started when no
 * computer has sent anything for a minute, or at once with "Check now";
 * slow reads while backups arrive; damaged objects moved into the disk's
 * quarantine folder; what awaits repair, per repository, until the user
 * says it was repaired. A pass belongs to its disk: it stops when the disk
 * goes or the server stops, and goes on from there later.
 */
export class Integrity {
  private run: Run | undefined;
  private lastRequestAt = 0;
  /** What each disk's own record says (read from the disk when it is served). */
  private readonly onDisk = new Map<string, ScrubState>();
  private readonly syncer = createSyncer((message) => this.shared.emit('note', message, 'warning'));
  private lastPublished = 0;
  private closed = false;

  constructor(
    private readonly shared: Shared,
    private readonly rooms: {
      /** Fetches a file (relative to the backup folder) from the offsite copy to `destination`; false when there is none (the offsite room knows). */
      fetchFromCopy: (relative: string, destination: string) => Promise<boolean>;
      /** The desktop repairs the repository itself (its password is kept: the caretaker knows); false when it cannot. */
      repairByDesktop: (repo: string) => Promise<boolean>;
    },
  ) {
    shared.supervisor.on('requests', (events) => {
      if (events.length > 0) this.lastRequestAt = Date.now();
    });
    shared.supervisor.on('change', () => {
      if (shared.supervisor.phase !== 'serving' || this.run?.diskId !== shared.supervisor.disk?.id) this.run?.stop.abort();
    });
    shared.on('tick', () => void this.startIfDue().catch((error: Error) => shared.emit('note', `The integrity check cannot start: ${error.message}`, 'warning')));
  }

  private get busy(): boolean {
    return Date.now() - this.lastRequestAt < IDLE_MS;
  }

  /** The disk served now, when it is there. */
  private servedDisk(): DiskRecord | undefined {
    const { supervisor, settings } = this.shared;
    if (supervisor.phase !== 'serving' || !supervisor.disk) return undefined;
    return settings.disks.find((disk) => disk.id === supervisor.disk?.id);
  }

  async checkIntegrity(): Promise<AppState> {
    const disk = this.servedDisk();
    if (!disk) throw new UserError('not-serving', 'The check reads the backup disk the server uses: start the server with the disk plugged in first.');
    if (!this.run) await this.start(disk, true);
    return this.shared.state();
  }

  async markRepaired(input: { repo: string }): Promise<AppState> {
    const disk = this.servedDisk();
    const state = disk && (await this.load(disk));
    if (!disk || !state?.open.some((finding) => finding.repo === input.repo)) {
      throw new UserError('not-found', 'Nothing waits for a repair in that repository on the disk in use.');
    }
    await settleFindings(disk.folder, input.repo, this.syncer);
    await this.load(disk);
    this.shared.changed();
    return this.shared.state();
  }

  /** Stops a running check (its progress stays on the disk) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    this.run?.stop.abort();
    await this.run?.done;
  }

  view(): IntegrityView {
    const { settings } = this.shared;
    const served = this.servedDisk();
    const open = served ? (this.onDisk.get(served.id)?.open ?? []) : [];
    const repos = [...new Set(open.map((finding) => finding.repo))].sort();
    const lastCheckedAt = served?.integrity?.checkedAt;
    return {
      everyDays: settings.integrityDays,
      running: this.run ? { startedAt: this.run.counts.startedAt, objects: this.run.counts.objects, bytes: this.run.counts.bytes, paced: this.busy } : null,
      disks: settings.disks.map((disk) => ({
        diskId: disk.id,
        label: disk.label,
        lastCheckedAt: disk.integrity?.checkedAt ?? null,
        objects: disk.integrity?.objects ?? null,
        bytes: disk.integrity?.bytes ?? null,
        damaged: disk.integrity?.damaged ?? null,
      })),
      nextCheckAt: lastCheckedAt ? new Date(Date.parse(lastCheckedAt) + settings.integrityDays * DAY_MS).toISOString() : null,
      awaitingRepair: repos.map((repo) => {
        const computer = this.shared.computer(repo);
        return {
          repo,
          username: computer?.username ?? null,
          displayName: computer?.displayName ?? null,
          findings: open.filter((finding) => finding.repo === repo).map(toView),
        };
      }),
    };
  }

  /** Reads the disk's own record of its checks, and remembers the last complete one with the disk. */
  private async load(disk: DiskRecord): Promise<ScrubState> {
    const state = await readScrubState(disk.folder);
    this.onDisk.set(disk.id, state);
    const last = state.last;
    if (last && last.finishedAt !== disk.integrity?.checkedAt) {
      disk.integrity = { checkedAt: last.finishedAt, objects: last.objects, bytes: last.bytes, damaged: last.findings.length };
      this.shared.saveInBackground();
    }
    return state;
  }

  /**
   * A damaged object whose good contents the offsite copy holds is put back
   * from there (checked against its name first): then nobody needs to
   * repair anything.
   */
  private async putBack(disk: DiskRecord, finding: Finding): Promise<void> {
    if (!finding.quarantined || finding.damage === 'misnamed') return;
    const relative = finding.repo === '' ? finding.file : `${finding.repo}/${finding.file}`;
    const final = join(disk.folder, ...relative.split('/'));
    const temp = tempPathIn(dirname(final));
    try {
      if (!(await this.rooms.fetchFromCopy(relative, temp))) return;
      if ((await hashFile(temp)) !== basename(final)) return;
      await rename(temp, final);
      await this.syncer.syncFolder(dirname(final));
      await settleFindings(disk.folder, finding.repo, this.syncer, finding.file);
      const whose = this.shared.computer(finding.repo)?.displayName ?? `the repository /${finding.repo}/`;
      this.shared.emit('note', `Integrity check: the damaged file ${finding.file} of ${whose} was put back whole from the offsite copy.`, 'info');
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** What the offsite copy could not put back, the desktop repairs where it keeps the password; those findings are then settled. */
  private async repairByDesktop(disk: DiskRecord): Promise<void> {
    const state = await this.load(disk);
    for (const repo of new Set(state.open.map((finding) => finding.repo))) {
      if (await this.rooms.repairByDesktop(repo)) await settleFindings(disk.folder, repo, this.syncer);
    }
  }

  private async startIfDue(): Promise<void> {
    const disk = this.servedDisk();
    if (!disk || this.run || this.busy || this.closed) return;
    // Read from the disk once, then kept up to date by the runs: no read every tick (a sleeping disk stays asleep).
    const state = this.onDisk.get(disk.id) ?? (await this.load(disk));
    const last = state.last ? Date.parse(state.last.finishedAt) : 0;
    const due = state.current !== null || Date.now() - last >= this.shared.settings.integrityDays * DAY_MS;
    if (due && !this.run && !this.busy) await this.start(disk, false);
  }

  private async start(disk: DiskRecord, asked: boolean): Promise<void> {
    const state = await this.load(disk);
    const resuming = state.current !== null;
    const stop = new AbortController();
    const counts: ScrubCounts = state.current ?? { startedAt: new Date().toISOString(), objects: 0, bytes: 0, findings: [] };
    const seen = new Set(state.open.map((finding) => `${finding.repo}/${finding.file}`));
    const run: Run = { diskId: disk.id, stop, counts, done: Promise.resolve() };
    this.run = run;
    this.shared.emit('note', `Integrity check of “${disk.label}” ${resuming ? 'resumed' : 'started'}${asked ? '' : ' (due)'}.`, 'info');
    const onProgress = (now: ScrubCounts) => {
      run.counts = now;
      const fresh = now.findings.filter((finding) => !seen.has(`${finding.repo}/${finding.file}`));
      for (const finding of fresh) seen.add(`${finding.repo}/${finding.file}`);
      if (fresh.length > 0) {
        const state = this.onDisk.get(disk.id);
        if (state) state.open = [...state.open.filter((old) => !fresh.some((f) => f.repo === old.repo && f.file === old.file)), ...fresh];
        for (const repo of new Set(fresh.map((finding) => finding.repo))) {
          const name = this.shared.computer(repo)?.displayName ?? `the repository /${repo}/`;
          this.shared.emit('note', `Integrity check: damaged backup files of ${name} were found and moved aside.`, 'error');
        }
      }
      if (fresh.length > 0 || Date.now() - this.lastPublished > PROGRESS_EVERY_MS) {
        this.lastPublished = Date.now();
        this.shared.changed();
      }
    };
    run.done = scrub({
      root: disk.folder,
      syncer: this.syncer,
      quarantine: true,
      pace: () => (this.busy ? BUSY_BYTES_PER_SECOND : Infinity),
      signal: stop.signal,
      onProgress,
      onSkip: (item) => this.shared.emit('note', `Integrity check of “${disk.label}”: ${item.path} was not checked, ${item.reason}.`, 'warning'),
      present: async () => this.shared.supervisor.disk?.id === disk.id && (await readDiskId(disk.folder)) === disk.id,
    })
      .then(async (outcome) => {
        if (outcome.finished) {
          const { pass } = outcome;
          const found = pass.findings.length === 0 ? 'nothing damaged' : `${plural(pass.findings.length, 'damaged file')} found`;
          this.shared.emit('note', `Integrity check of “${disk.label}” finished: ${plural(pass.objects, 'object')} (${formatBytes(pass.bytes)}) checked, ${found}.`, pass.findings.length === 0 ? 'info' : 'error');
          for (const finding of pass.findings) await this.putBack(disk, finding);
          await this.repairByDesktop(disk);
        } else {
          this.shared.emit('note', `Integrity check of “${disk.label}” paused after ${plural(outcome.counts.objects, 'object')}; it goes on when the disk is served again.`, 'info');
        }
        await this.load(disk);
      })
      .catch((error: Error) => {
        this.shared.emit('note', `The integrity check of “${disk.label}” stopped: ${error.message}. What it had checked is kept: “Check now” on the Storage screen goes on from there; if it stops again, restart the app.`, 'warning');
      })
      .finally(() => {
        if (this.run === run) this.run = undefined;
        this.shared.changed();
      });
    this.shared.changed();
  }
}
