import { isAbsolute, join, relative } from 'node:path';
import type { AppState, OffsiteInput, OffsiteS3Input, OffsiteSftpInput, OffsiteView, SftpHostKey } from '../../contract.js';
import { findRepositories } from '../../../server/scrub/scrub.js';
import { formatBytes } from '../../common/format-bytes.js';
import { UserError } from '../core/errors.js';
import type { CopyLocation } from '../core/command-lines.js';
import { copyRepositories, joinRemote, openCopySession, type CopyProgress } from './offsite-copy.js';
import { DeletionJournal } from './offsite-journal.js';
import { rebuildFromCopy } from './offsite-rebuild.js';
import { probeTarget } from './offsite-probe.js';
import { copyLocationOf, keepFormFiles, RCLONE_CONFIG_FILE, scanHostKey, writeS3Remote, writeSftpRemote } from './offsite-targets.js';
import { placeInWords, placeName } from './offsite-words.js';
import { findRclone, installHint, runRclone } from './rclone.js';
import type { Shared } from '../core/shared.js';

const HOUR_MS = 3_600_000;
/** Backups have settled when no computer has uploaded for this long: a copy may start. */
export const SETTLED_MS = 5 * 60_000;
/** A copy at least this often while anything is there to copy. */
const AT_LEAST_EVERY_MS = 24 * HOUR_MS;
const JOURNAL_FILE = 'offsite-journal.json';
const LISTINGS_FILE = 'offsite-listings.json';
const DAY_MS = 24 * HOUR_MS;
/** Where the rclone of a copy under way listens (see rclone-session.ts). */
const SESSION_FILE = 'rclone-session.json';

/** The night, when copies may start by themselves if the user wants them only then: 22:00 to 06:00, this computer's time. */
const atNight = (now: number): boolean => {
  const hour = new Date(now).getHours();
  return hour >= 22 || hour < 6;
};

/**
 * The offsite copy: every repository of the disk in use copied by rclone to
 * a folder elsewhere (another disk, a network folder) or to an rclone remote
 * (a relative's computer over SFTP, cloud storage), once backups have
 * settled and at least daily, or when asked. The target is tested before it
 * is kept. The copy only adds files (see offsite-copy.ts); what was deleted
 * on the disk is deleted on the copy once its grace period is over (see
 * offsite-journal.ts).
 */
export class Offsite {
  private run: { stop: AbortController; progress: CopyProgress | null; rebuilding: boolean } | undefined;
  private lastUploadAt = 0;
  private problem: { words: string; details: string | null } | null = null;
  /** Where the target is, read from rclone's configuration when it was set or the app started (the view is composed without reading files). */
  private place: { remote: string; location: CopyLocation } | undefined;
  private rclone: string | null = null;
  private readonly journal: DeletionJournal;

  constructor(
    private readonly shared: Shared,
    /** Starts an integrity check of the disk in use (the integrity room does it). */
    private readonly checkDisk: () => Promise<unknown>,
  ) {
    this.journal = new DeletionJournal(join(shared.options.configDir, JOURNAL_FILE), join(shared.options.configDir, LISTINGS_FILE));
    shared.supervisor.on('requests', (events) => {
      if (events.some((event) => event.method === 'POST' && event.status === 200)) this.lastUploadAt = Date.now();
      const disk = shared.supervisor.disk;
      if (disk && shared.settings.offsite) {
        this.journal.noteDeleted(disk.id, events).catch((error: Error) => shared.emit('note', `Cannot note deletions for the offsite copy: ${error.message}`, 'warning'));
      }
    });
    shared.on('tick', () => void this.copyIfDue());
  }

  private now(): number {
    return this.shared.options.now?.() ?? Date.now();
  }

  private get sessionFile(): string {
    return join(this.shared.options.configDir, SESSION_FILE);
  }

  private get configFile(): string {
    return this.shared.settings.offsite?.rcloneConfig ?? join(this.shared.options.configDir, RCLONE_CONFIG_FILE);
  }

  /** Looks for rclone (again: it may have been installed meanwhile). */
  private async binary(): Promise<string | null> {
    this.rclone = await findRclone(this.shared.settings.rclonePath);
    return this.rclone;
  }

  async refresh(): Promise<void> {
    await this.binary();
    const target = this.shared.settings.offsite;
    if (target) await this.locate(target.remote, this.configFile);
  }

  /** Where `remote` is (see `place`). */
  private async locate(remote: string, configFile: string): Promise<CopyLocation> {
    const location = await copyLocationOf(remote, configFile);
    this.place = { remote, location };
    return location;
  }

  /** The target in the sentences that say what went wrong there. */
  private placeName(): string {
    const target = this.shared.settings.offsite;
    return placeName(target && this.place?.remote === target.remote ? this.place.location : null);
  }

  view(): OffsiteView {
    const target = this.shared.settings.offsite;
    const progress = this.run?.progress;
    return {
      rclone: this.rclone,
      installHint: this.rclone ? null : installHint(),
      target: target && {
        remote: target.remote,
        where: this.place?.remote === target.remote ? placeInWords(this.place.location) : target.remote,
        bandwidth: target.bandwidth,
        rcloneConfig: target.rcloneConfig,
        graceDays: target.graceDays,
        nightOnly: target.nightOnly,
        warnAfterDays: target.warnAfterDays,
      },
      running: this.run
        ? {
            rebuilding: this.run.rebuilding,
            step: progress?.step ?? 'starting',
            bytes: progress?.stats.bytes ?? 0,
            totalBytes: progress?.stats.totalBytes ?? 0,
            bytesPerSecond: progress?.stats.speed ?? 0,
            secondsLeft: progress?.stats.eta ?? null,
          }
        : null,
      lastCopyAt: target?.lastCopyAt ?? null,
      problem: target ? (this.problem?.words ?? null) : null,
      problemDetails: target ? (this.problem?.details ?? null) : null,
    };
  }

  setOffsite(input: OffsiteInput): Promise<AppState> {
    return this.shared.mutate(async () => {
      const binary = await this.binary();
      if (!binary) throw new UserError('no-rclone', `rclone is not installed. ${installHint()}`);
      const disk = this.shared.currentDisk();
      if (disk && isAbsolute(input.remote)) {
        const inside = relative(disk.folder, input.remote);
        if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
          throw new UserError('copy-inside', 'The copy cannot go inside the backup folder itself: choose a folder on another disk or computer.');
        }
      }
      const rcloneConfig = input.rcloneConfig ?? null;
      const configFile = rcloneConfig ?? join(this.shared.options.configDir, RCLONE_CONFIG_FILE);
      const location = await copyLocationOf(input.remote, configFile);
      await probeTarget({ binary, remote: input.remote, configFile, place: placeName(location) });
      this.place = { remote: input.remote, location };
      this.run?.stop.abort();
      this.problem = null;
      this.shared.settings.offsite = {
        remote: input.remote,
        rcloneConfig,
        bandwidth: input.bandwidth ?? null,
        graceDays: input.graceDays ?? 30,
        nightOnly: input.nightOnly ?? false,
        warnAfterDays: input.warnAfterDays ?? 7,
        lastCopyAt: null,
      };
      await this.shared.save();
      return this.shared.state();
    });
  }

  async sftpHostKey(input: { host: string; port?: number }): Promise<SftpHostKey> {
    return (await scanHostKey(input.host, input.port ?? 22)).key;
  }

  async setOffsiteSftp(input: OffsiteSftpInput): Promise<AppState> {
    const binary = await this.binary();
    if (!binary) throw new UserError('no-rclone', `rclone is not installed. ${installHint()}`);
    return this.throughForm(input, input.folder, () => writeSftpRemote(binary, this.shared.options.configDir, input));
  }

  setOffsiteS3(input: OffsiteS3Input): Promise<AppState> {
    return this.throughForm(input, `${input.bucket}${input.folder ? `/${input.folder}` : ''}`, () => writeS3Remote(this.shared.options.configDir, input));
  }

  /** A form's remote written into the app's rclone configuration, then tested and kept as the target; when the test fails, the configuration is put back as it was (the target in use keeps working). */
  private async throughForm(input: OffsiteSftpInput | OffsiteS3Input, path: string, write: () => Promise<string>): Promise<AppState> {
    const putBack = await keepFormFiles(this.shared.options.configDir);
    try {
      const remote = await write();
      return await this.setOffsite({ remote: `${remote}:${path}`, rcloneConfig: null, bandwidth: input.bandwidth, graceDays: input.graceDays, nightOnly: input.nightOnly, warnAfterDays: input.warnAfterDays });
    } catch (error) {
      await putBack();
      throw error;
    }
  }

  removeOffsite(): Promise<AppState> {
    return this.shared.mutate(async () => {
      this.run?.stop.abort();
      this.shared.settings.offsite = null;
      this.problem = null;
      await this.shared.save();
      return this.shared.state();
    });
  }

  async copyOffsiteNow(): Promise<AppState> {
    if (!this.shared.settings.offsite) throw new UserError('no-offsite', 'Choose where the copy goes first.');
    if (!this.shared.currentDisk() || this.shared.supervisor.phase !== 'serving') {
      throw new UserError('not-serving', 'The copy is made from the backup disk the server uses: start the server with the disk plugged in first.');
    }
    if (!this.run) void this.copy();
    return this.shared.state();
  }

  async close(): Promise<void> {
    this.run?.stop.abort();
  }

  async rebuildFromCopy(): Promise<AppState> {
    const target = this.shared.settings.offsite;
    const disk = this.shared.currentDisk();
    const binary = await this.binary();
    if (!target) throw new UserError('no-offsite', 'There is no offsite copy to rebuild from: choose where the copy is first.');
    if (!binary) throw new UserError('no-rclone', `rclone is not installed. ${installHint()}`);
    if (!disk || this.shared.supervisor.phase !== 'serving') {
      throw new UserError('not-serving', 'Choose the new backup disk in Storage and start the server first: the backups are copied onto the disk in use.');
    }
    if (this.run) throw new UserError('busy', 'A copy is running: wait for it to finish.');
    const run = { stop: new AbortController(), progress: null as CopyProgress | null, rebuilding: true };
    this.run = run;
    this.shared.emit('note', `Rebuilding “${disk.label}” from the offsite copy.`, 'info');
    void rebuildFromCopy({
      binary,
      configFile: this.configFile,
      leftoverFile: this.sessionFile,
      remote: target.remote,
      place: this.placeName(),
      root: disk.folder,
      signal: run.stop.signal,
      onProgress: (progress) => {
        run.progress = progress;
        this.shared.changed();
      },
      onWarning: (message) => this.shared.emit('note', message, 'warning'),
    })
      .then(async (outcome) => {
        if (outcome.ok) {
          this.shared.emit('note', `“${disk.label}” was rebuilt from the offsite copy: ${formatBytes(outcome.bytes)} in ${outcome.files} files; an integrity check follows.`, 'info');
          await this.checkDisk();
        } else if (!outcome.stopped) {
          this.shared.emit('note', `Rebuilding from the offsite copy failed: ${outcome.problem}`, 'error');
        }
      })
      .catch((error: Error) => this.shared.emit('note', `Rebuilding from the offsite copy failed: ${error.message}`, 'error'))
      .finally(() => {
        if (this.run === run) this.run = undefined;
        this.shared.changed();
      });
    return this.shared.state();
  }

  /** Fetches one file (relative to the backup folder) from the copy to `destination`; false when there is no copy or it lacks the file. */
  async fetchObject(relative: string, destination: string): Promise<boolean> {
    const target = this.shared.settings.offsite;
    const binary = target && (await this.binary());
    if (!target || !binary) return false;
    const run = await runRclone(['copyto', joinRemote(target.remote, relative), destination], { binary, configFile: this.configFile });
    return run.code === 0;
  }

  /** Where the copy is, as restic on a family computer reaches it. */
  async copyLocation(): Promise<CopyLocation | null> {
    const target = this.shared.settings.offsite;
    return target && copyLocationOf(target.remote, this.configFile);
  }

  private async copyIfDue(): Promise<void> {
    const target = this.shared.settings.offsite;
    if (!target || this.run || this.shared.supervisor.phase !== 'serving') return;
    if (target.nightOnly && !atNight(this.now())) return;
    const last = target.lastCopyAt ? Date.parse(target.lastCopyAt) : 0;
    const settled = Date.now() - this.lastUploadAt >= SETTLED_MS;
    const newBackups = this.lastUploadAt > last;
    // rclone is looked for when a copy is due (it may have been installed meanwhile), not every tick; without it the copy says so.
    if (settled && (newBackups || this.now() - last >= AT_LEAST_EVERY_MS)) await this.copy();
  }

  private async copy(): Promise<void> {
    const target = this.shared.settings.offsite;
    const disk = this.shared.currentDisk();
    const binary = await this.binary();
    if (!target || !disk) return;
    if (!binary) {
      this.problem = { words: `rclone is not installed. ${installHint()}`, details: null };
      this.shared.changed();
      return;
    }
    const run = { stop: new AbortController(), progress: null as CopyProgress | null, rebuilding: false };
    this.run = run;
    const startedAt = new Date(this.now()).toISOString();
    this.shared.changed();
    try {
      const repos = await findRepositories(disk.folder);
      const rclone = await openCopySession({ binary, configFile: this.configFile, leftoverFile: this.sessionFile, bandwidth: target.bandwidth ?? undefined, signal: run.stop.signal });
      try {
        const outcome = await copyRepositories(rclone, {
          binary,
          configFile: this.configFile,
          root: disk.folder,
          repos,
          remote: target.remote,
          place: this.placeName(),
          onProgress: (progress) => {
            run.progress = progress;
            this.shared.changed();
          },
        });
        const where = this.view().target?.where;
        if (outcome.ok) {
          this.problem = null;
          if (this.shared.settings.offsite === target) {
            target.lastCopyAt = startedAt;
            this.shared.saveInBackground();
          }
          this.shared.emit('note', `Offsite copy to ${where} finished: ${formatBytes(outcome.bytes)} sent.`, 'info');
          const removed = await this.journal.reconcile(rclone, {
            diskId: disk.id,
            onDisk: outcome.listed,
            repos,
            remote: target.remote,
            place: this.placeName(),
            now: this.now(),
            graceMs: target.graceDays * DAY_MS,
          });
          if (removed.problem) this.shared.emit('note', `Offsite copy: files deleted on the backup disk could not be deleted on the copy yet. ${removed.problem}`, 'warning');
          else if (removed.deleted > 0) this.shared.emit('note', `Offsite copy: ${removed.deleted} files deleted on the backup disk over ${target.graceDays} days ago were deleted on the copy too.`, 'info');
        } else if (!outcome.stopped) {
          this.problem = { words: outcome.problem, details: outcome.details };
          this.shared.emit('note', `Offsite copy to ${where} failed: ${outcome.problem}`, 'warning');
        }
      } finally {
        await rclone.close();
      }
    } catch (error) {
      this.problem = { words: 'The copy could not run.', details: (error as Error).message };
    } finally {
      this.run = undefined;
      this.shared.changed();
    }
  }
}
