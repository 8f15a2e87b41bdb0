import { access, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { AppState, CaretakerView, RetentionPolicy, RetentionPreview } from '../../contract.js';
import { readDiskId } from '../../../server/disk-guard.js';
import { UserError } from '../core/errors.js';
import type { ComputerRecord, DiskRecord } from '../core/settings.js';
import type { Shared } from '../core/shared.js';
import { KeptPasswords } from './kept-passwords.js';
import { keyFileKeychain, type Keychain } from '../core/keychain.js';
import { findRestic, installHint, readVersion } from './restic-program.js';
import { ResticRuns, type ResticResult, type ResticStream } from './restic-runs.js';
import { DEFAULT_POLICY, policyFlags, readForget, readPruneEstimate } from './retention.js';
import { Upkeep, type UpkeepHooks } from './upkeep.js';

export type { Keychain } from '../core/keychain.js';

/** What the caretaker needs to know from other rooms (the controller hands it in). */
export type CaretakerRooms = Pick<UpkeepHooks, 'activityOf' | 'copying' | 'spaceFreed'>;

/** restic's cache for the desktop's own runs, in the config folder (never the family's cache in the home folder). */
const CACHE_FOLDER = 'restic-cache';

/**
 * The desktop looking after the backups: restic on this computer (found,
 * its version shown, every run through `ResticRuns`) and each computer's
 * encryption password kept here when the family asks for it, checked by
 * opening that computer's repository on the disk first.
 */
export class Caretaker {
  private restic: { path: string; version: string } | null = null;
  /** The restic program's file as it was when its version was read: the same file is not asked again. */
  private resticStamp = '';
  private resticProblem: string | null = null;
  private readonly kept: KeptPasswords;
  private readonly runs: ResticRuns;
  private readonly upkeep: Upkeep;

  constructor(
    private readonly shared: Shared,
    /** The system keychain (the desktop app); without one the passwords are locked by a key file in the config folder. */
    keychain: Keychain | undefined,
    rooms: CaretakerRooms,
  ) {
    const { configDir } = shared.options;
    this.kept = new KeptPasswords(configDir, { keychain, keyFile: keyFileKeychain(configDir) });
    this.runs = new ResticRuns(() => this.program(), join(configDir, CACHE_FOLDER), (message, severity) => shared.emit('note', message, severity));
    this.upkeep = new Upkeep(shared, this.runs, {
      ...rooms,
      kept: (username) => this.kept.has(username),
      password: (username) => this.kept.reveal(username),
      policyOf: (computer) => computer.retention ?? DEFAULT_POLICY,
      resticVersion: () => this.restic?.version ?? null,
    });
  }

  /** Reads the kept passwords' store (a damaged one becomes a notice) and looks for restic. */
  async open(): Promise<void> {
    const problem = await this.kept.load();
    if (problem) this.shared.addNotice(problem);
    await this.findProgram();
  }

  /** Stops the restic runs under way and waits for them. */
  async close(): Promise<void> {
    await this.runs.close();
    await this.upkeep.close();
  }

  view(): CaretakerView {
    const known = new Set(this.shared.settings.computers.map((computer) => computer.username));
    return {
      restic: this.restic,
      resticPath: this.shared.settings.resticPath,
      problem: this.resticProblem,
      keptPasswords: this.kept.usernames().filter((username) => known.has(username)),
      passwordLock: this.kept.lock.kind,
      computers: this.upkeep.views(),
    };
  }

  /** restic at this path from now on (null: the one on PATH); refused in words when it is not a restic that runs. */
  setResticPath(input: { path: string | null }): Promise<AppState> {
    return this.shared.mutate(async () => {
      if (input.path !== null) {
        if (!isAbsolute(input.path)) throw new UserError('invalid-restic', 'Give the full path of the restic program, such as /usr/local/bin/restic.');
        const found = await findRestic(input.path);
        if (!found) throw new UserError('no-restic', `There is no program that can be run at ${input.path}.`);
        await readVersion(found).catch((error: Error) => {
          throw new UserError('not-restic', `${error.message}: give the path of the restic program.`);
        });
      }
      this.shared.settings = { ...this.shared.settings, resticPath: input.path };
      await this.shared.save();
      await this.findProgram();
      return this.shared.state();
    });
  }

  /** Keeps a computer's encryption password, once restic opened its backups with it. */
  keepPassword(input: { username: string; password: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const computer = this.computer(input.username);
      const repo = await this.repository(computer);
      const result = await this.runs.run(['cat', 'config', '--no-lock'], { repo, password: input.password, purpose: `Checking the encryption password of ${computer.displayName}`, json: true });
      if (result.wrongPassword) throw new UserError('wrong-password', `This password does not open ${computer.displayName}’s backups.`);
      if (!result.ok) throw new UserError('restic-failed', `restic could not open ${computer.displayName}’s backups: ${result.failure}.`);
      await this.kept.keep(computer.username, input.password);
      this.shared.emit('note', `The encryption password of ${computer.displayName} is kept on this desktop.`, 'info');
      return this.shared.state();
    });
  }

  /** The kept password itself, asked for on purpose (the GUI asks first); the live log says it was shown, never what it is. */
  async showPassword(input: { username: string }): Promise<{ password: string }> {
    const computer = this.computer(input.username);
    if (!this.kept.has(computer.username)) throw new UserError('not-kept', `No encryption password of ${computer.displayName} is kept on this desktop.`);
    const password = await this.kept.reveal(computer.username).catch((error: Error) => {
      throw new UserError('cannot-unlock', error.message);
    });
    this.shared.emit('note', `The kept encryption password of ${computer.displayName} was shown.`, 'info');
    return { password };
  }

  forgetPassword(input: { username: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const computer = this.computer(input.username);
      if (this.kept.has(computer.username)) {
        await this.kept.forget(computer.username);
        this.shared.emit('note', `The kept encryption password of ${computer.displayName} was forgotten.`, 'info');
      }
      return this.shared.state();
    });
  }

  /**
   * A computer being removed takes its kept password with it (Remove calls
   * this inside its own change, once the login and the settings are gone).
   * A failure is said, never thrown: the computer is removed all the same.
   * Never done when the store is read at start: damaged settings would then
   * forget every kept password.
   */
  async forgetRemoved(computer: Pick<ComputerRecord, 'username' | 'displayName'>): Promise<void> {
    if (!this.kept.has(computer.username)) return;
    const name = computer.displayName;
    try {
      await this.kept.forget(computer.username);
      this.shared.emit('note', `The kept encryption password of ${name} was forgotten with it.`, 'info');
    } catch (error) {
      const message = `The encryption password kept for ${name} could not be forgotten as it was removed (${(error as Error).message}): it stays on this desktop, locked. To forget it, add a computer called “${name}” again and use “Forget the kept password…” on its page.`;
      this.shared.emit('note', message, 'warning');
      this.shared.addNotice(message);
    }
  }

  /** What a policy would remove now: restic forget --dry-run, without a lock (a preview writes nothing on the disk). */
  async previewRetention(input: { username: string; policy?: RetentionPolicy }): Promise<RetentionPreview> {
    const computer = this.computer(input.username);
    if (!this.kept.has(computer.username)) throw new UserError('not-kept', `Keep the encryption password of ${computer.displayName} first: restic needs it to read which backups there are.`);
    const repo = await this.repository(computer);
    const password = await this.kept.reveal(computer.username).catch((error: Error) => {
      throw new UserError('cannot-unlock', error.message);
    });
    const policy = input.policy ?? computer.retention ?? DEFAULT_POLICY;
    const result = await this.runs.run(['forget', '--dry-run', '--prune', '--no-lock', ...policyFlags(policy)], { repo, password, purpose: `Previewing what the retention policy removes from ${computer.displayName}’s backups`, json: true });
    if (!result.ok) throw new UserError('restic-failed', `restic could not read ${computer.displayName}’s backups: ${result.failure}.`);
    return readForget(policy, result.json, readPruneEstimate(`${result.stdout}\n${result.stderr}`));
  }

  setRetentionPolicy(input: { username: string; policy: RetentionPolicy }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const computer = this.computer(input.username);
      const standard = (Object.keys(DEFAULT_POLICY) as (keyof RetentionPolicy)[]).every((key) => input.policy[key] === DEFAULT_POLICY[key]);
      this.shared.settings = {
        ...this.shared.settings,
        computers: this.shared.settings.computers.map((other) => (other === computer ? { ...other, retention: standard ? undefined : input.policy } : other)),
      };
      await this.shared.save();
      return this.shared.state();
    });
  }

  /** "Run now": the retention starts at once (the state shows it running, then its outcome). */
  runRetention(input: { username: string }): Promise<AppState> {
    return this.startNow(input.username, 'retention');
  }

  /** "Check now": this month's twelfth of the data, at once. */
  checkBackups(input: { username: string }): Promise<AppState> {
    return this.startNow(input.username, 'check');
  }

  /**
   * The integrity check moved damaged files of this repository aside: with
   * its password kept, the desktop repairs it at once (a new index, and with
   * restic 0.16 or later the snapshots too); the next backup then puts back
   * what the files held. False when it cannot (no password kept: the
   * computer's own repair commands are the way).
   */
  async repairAfterScrub(repoName: string): Promise<boolean> {
    const computer = this.shared.computer(repoName);
    if (!computer || !this.kept.has(computer.username) || !this.restic) return false;
    const disk = await this.diskOf(computer).catch(() => undefined);
    return disk ? this.upkeep.repair(computer, disk) : false;
  }

  private async startNow(username: string, job: 'retention' | 'check'): Promise<AppState> {
    const computer = this.computer(username);
    if (!this.kept.has(computer.username)) throw new UserError('not-kept', `Keep the encryption password of ${computer.displayName} first: restic needs it to open its backups.`);
    const disk = await this.diskOf(computer);
    try {
      this.upkeep.start(computer, disk, job);
    } catch (error) {
      throw new UserError('busy', (error as Error).message);
    }
    return this.shared.state();
  }

  /** restic run against a computer's repository on the disk in use with its kept password (for the restore room); refused in words when none is kept. */
  async runFor(username: string, args: string[], purpose: string, json = false): Promise<ResticResult> {
    const { repo, password } = await this.access(username);
    return this.runs.run(args, { repo, password, purpose, json });
  }

  /** As `runFor`, its output read as it comes; `background` runs it at the lowest CPU priority. */
  async streamFor(username: string, args: string[], purpose: string, background = false): Promise<ResticStream> {
    const { repo, password } = await this.access(username);
    return this.runs.stream(args, { repo, password, purpose, background });
  }

  /** As `streamFor`, restic writing its output straight into `fd`, an open file, at the usual priority. */
  async saveFor(username: string, args: string[], purpose: string, fd: number): Promise<Omit<ResticStream, 'stdout'>> {
    const { repo, password } = await this.access(username);
    return this.runs.streamInto(args, { repo, password, purpose }, fd);
  }

  /** A computer's kept password, or null when none is kept (for the emergency sheet, which asks first); an error in words when it cannot be unlocked. */
  async keptPassword(username: string): Promise<string | null> {
    if (!this.kept.has(username)) return null;
    return this.kept.reveal(username).catch((error: Error) => {
      throw new UserError('cannot-unlock', error.message);
    });
  }

  private async access(username: string): Promise<{ repo: string; password: string }> {
    const computer = this.computer(username);
    if (!this.kept.has(computer.username)) throw new UserError('not-kept', `Keep the encryption password of ${computer.displayName} first (on its page): restic needs it to read its backups.`);
    const repo = await this.repository(computer);
    const password = await this.kept.reveal(computer.username).catch((error: Error) => {
      throw new UserError('cannot-unlock', error.message);
    });
    return { repo, password };
  }

  private computer(username: string): ComputerRecord {
    const computer = this.shared.computer(username);
    if (!computer) throw new UserError('not-found', 'There is no such computer. Reload the page.');
    return computer;
  }

  /** The computer's repository folder on the backup disk, when that disk is the one plugged in and the repository is there. */
  private async repository(computer: ComputerRecord): Promise<string> {
    return join((await this.diskOf(computer)).folder, computer.username);
  }

  /** The backup disk in use, when it is plugged in and holds the computer's repository. */
  private async diskOf(computer: ComputerRecord): Promise<DiskRecord> {
    const { supervisor } = this.shared;
    const disk = this.shared.settings.disks.find((known) => known.id === supervisor.disk?.id) ?? this.shared.currentDisk();
    if (!disk) throw new UserError('no-disk', 'Choose the backup disk first (Storage).');
    if ((await readDiskId(disk.folder).catch(() => undefined)) !== disk.id) {
      throw new UserError('disk-missing', `The backup disk “${disk.label}” is not plugged in: plug it in and try again.`);
    }
    try {
      await access(join(disk.folder, computer.username, 'config'));
    } catch {
      throw new UserError('no-backups', `${computer.displayName} has no backups on “${disk.label}” yet: keep its password after its first backup.`);
    }
    return disk;
  }

  /** Looks for restic again (it may have been installed, moved or updated meanwhile) and reads its version when the program is not the one seen before. */
  private async findProgram(): Promise<{ path: string; version: string } | null> {
    const configured = this.shared.settings.resticPath;
    // A path set in Settings is the family's own choice; else the restic bundled with the app (its version known, its checksum checked when built); else PATH.
    const path = await findRestic(configured ?? (await findRestic(this.shared.options.bundledRestic ?? null)));
    const info = path ? await stat(path).catch(() => undefined) : undefined;
    const stamp = info ? `${path}\0${info.ino}\0${info.size}\0${info.mtimeMs}` : `none\0${configured}`;
    if (stamp === this.resticStamp) return this.restic;
    if (!path) {
      this.restic = null;
      this.resticProblem = configured ? `There is no restic program at ${configured}. ${installHint()}` : `restic is not installed on this desktop. ${installHint()}`;
    } else {
      try {
        this.restic = { path, version: await readVersion(path) };
        this.resticProblem = null;
      } catch (error) {
        this.restic = null;
        this.resticProblem = `${(error as Error).message}. ${installHint()}`;
      }
    }
    this.resticStamp = this.restic ? stamp : '';
    this.shared.changed();
    return this.restic;
  }

  private async program(): Promise<string> {
    const found = await this.findProgram();
    if (!found) throw new UserError('no-restic', this.resticProblem ?? installHint());
    return found.path;
  }
}
