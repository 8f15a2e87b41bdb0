import { join } from 'node:path';
import type { AddComputerInput, AppState, CommandLinesInput, CommandSet, LoginCreated } from '../../contract.js';
import type { UserPolicy } from '../../../server/user-policy.js';
import { buildCommandLines, type CopyLocation } from '../core/command-lines.js';
import { UserError } from '../core/errors.js';
import { generatePassword, maintenanceUsername, usernameFor } from '../core/logins.js';
import { setUpBy, type ComputerRecord } from '../core/settings.js';
import { CA_FILE_NAME, type Shared } from '../core/shared.js';
import { MAINTENANCE_RECORD_FILE, MaintenanceRecord } from './maintenance-record.js';

/** The same name for people: case and spaces do not count. */
const sameNameKey = (name: string): string => name.normalize('NFKC').replace(/\s+/g, '').toLocaleLowerCase();

/**
 * The family's computers and their logins: add, remove, rename, reset a
 * password, rights and quota, the maintenance login, and each computer's
 * restic command lines.
 */
export class Computers {
  private readonly maintenanceRecord: MaintenanceRecord;
  /** Computers that may delete in their own backups for a repair, until then (ms): append-only or not. */
  private readonly deleting = new Map<string, number>();

  constructor(
    private readonly shared: Shared,
    /** The address computers use once the server serves (the serving room knows it). */
    private readonly serverUrl: () => string,
    /** Where the offsite copy is (the offsite room knows it). */
    private readonly copyLocation: () => Promise<CopyLocation | null>,
    /** Forgets the encryption password kept for a computer being removed (the caretaker keeps them); it says a failure itself and never throws. */
    private readonly forgetKeptPassword: (computer: ComputerRecord) => Promise<void>,
  ) {
    this.maintenanceRecord = new MaintenanceRecord(join(shared.options.configDir, MAINTENANCE_RECORD_FILE));
    shared.on('tick', () => this.endExpiredRights());
  }

  private now(): number {
    return this.shared.options.now?.() ?? Date.now();
  }

  /** A right to delete in its own backups until `until` (ms) for a repair, or ended (null); the server follows at once. */
  allowDeleting(username: string, until: number | null): Promise<void> {
    return this.shared.mutate(async () => {
      if (until === null) this.deleting.delete(username);
      else this.deleting.set(username, until);
      await this.shared.reconfigure();
    });
  }

  /** A repair that never said it ended loses its right to delete when that right expires. */
  private endExpiredRights(): void {
    const now = this.now();
    const expired = [...this.deleting].filter(([, until]) => until <= now).map(([username]) => username);
    if (expired.length === 0) return;
    this.shared
      .mutate(async () => {
        for (const username of expired) {
          this.deleting.delete(username);
          this.shared.emit('note', `${this.shared.computer(username)?.displayName ?? username} may no longer delete in its backups: the hour for its repair is over.`, 'info');
        }
        await this.shared.reconfigure();
      })
      .catch((error: Error) => this.shared.addNotice(`A repair’s right to delete could not be taken back at once (${error.message}): stop and start the server.`));
  }

  private get settings() {
    return this.shared.settings;
  }

  /**
   * At start: damage to the password file is reported, the maintenance login
   * is taken from its record, and logins that lost their settings are taken
   * back as append-only computers: whatever their name, none of them gets
   * rights over other computers' backups.
   */
  async checkLogins(): Promise<void> {
    const logins = this.shared.logins;
    const parsed = await logins.read();
    if (parsed.broken > 0) {
      this.shared.addNotice(
        `The login file ${logins.file} is damaged (${parsed.problems.join('; ')}). Computers whose line is damaged cannot log in: reset their passwords. A copy of the damaged file is kept when it is next changed.`,
      );
    }
    await this.recallMaintenanceLogin();
    const known = new Set([...this.settings.computers.map((computer) => computer.username), this.settings.maintenanceUser]);
    const found = [...parsed.users.keys()].filter((user) => !known.has(user));
    if (found.length > 0) {
      const now = new Date().toISOString();
      for (const username of found) this.settings.computers.push({ username, displayName: username, appendOnly: true, quotaBytes: null, createdAt: now });
      await this.shared.save();
      this.shared.addNotice(
        `Logins without settings were found and kept as append-only computers: ${found.join(', ')}. They can add backups to their own folder but not delete any, nor reach other computers' backups. Rename them in Computers, and remove any you do not recognise.`,
      );
    }
    await logins.ensure();
  }

  /**
   * The record names the maintenance login and wins over the settings (which
   * may be the defaults after damage). With no record yet (settings written
   * by an older version), the record starts from the settings.
   */
  private async recallMaintenanceLogin(): Promise<void> {
    const record = await this.maintenanceRecord.read();
    if (!record.found && record.problem !== undefined) {
      this.shared.addNotice(
        `The record of the maintenance login ${this.maintenanceRecord.file} is damaged (${record.problem}). No login was given maintenance rights from it: if the maintenance login is missing, create it again in Security.`,
      );
    }
    if (record.found) {
      if (this.settings.maintenanceUser === record.username) return;
      this.settings.maintenanceUser = record.username;
      await this.shared.save();
    } else if (this.settings.maintenanceUser !== null) {
      await this.maintenanceRecord.write(this.settings.maintenanceUser);
    }
  }

  /** What each login may do on the server. */
  userPolicies(): Map<string, UserPolicy> {
    const users = new Map<string, UserPolicy>();
    for (const computer of this.settings.computers) {
      const repairing = (this.deleting.get(computer.username) ?? 0) > this.now();
      users.set(computer.username, {
        appendOnly: (this.settings.appendOnly || computer.appendOnly) && !repairing,
        ...(computer.quotaBytes !== null ? { quotaBytes: computer.quotaBytes } : {}),
      });
    }
    if (this.settings.maintenanceUser !== null) users.set(this.settings.maintenanceUser, { maintenance: true });
    return users;
  }

  add(input: AddComputerInput): Promise<LoginCreated> {
    return this.shared.mutate(async () => {
      this.requireFreeName(input.displayName);
      const username = usernameFor(input.displayName, await this.takenNames());
      const password = input.password ?? generatePassword();
      await this.setLogin(username, password);
      this.settings.computers.push({
        username,
        displayName: input.displayName,
        appendOnly: input.appendOnly ?? true,
        quotaBytes: input.quotaBytes ?? null,
        createdAt: new Date().toISOString(),
      });
      await this.shared.save();
      await this.shared.reconfigure();
      return { username, password };
    });
  }

  /**
   * Its login, then its settings, then the encryption password the desktop
   * kept for it: none stays behind where no page shows it, and a computer
   * added later under the same name starts without it. Its backups stay on
   * the disk.
   */
  remove(input: { username: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const computer = this.require(input.username);
      await this.removeLogin(input.username);
      this.settings.computers = this.settings.computers.filter((other) => other.username !== input.username);
      await this.shared.save();
      await this.forgetKeptPassword(computer);
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  resetPassword(input: { username: string }): Promise<LoginCreated> {
    return this.shared.mutate(async () => {
      if (input.username !== this.settings.maintenanceUser) this.require(input.username);
      const password = generatePassword();
      await this.setLogin(input.username, password);
      const computer = this.shared.computer(input.username);
      if (computer) {
        computer.setUpBy = 'hand';
        await this.shared.save();
      }
      return { username: input.username, password };
    });
  }

  rename(input: { username: string; displayName: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const computer = this.require(input.username);
      this.requireFreeName(input.displayName, computer.username);
      computer.displayName = input.displayName;
      await this.shared.save();
      return this.shared.state();
    });
  }

  update(input: { username: string; appendOnly?: boolean; quotaBytes?: number | null }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const computer = this.require(input.username);
      if (input.appendOnly === false && this.settings.appendOnly) {
        // The old "append-only for every computer" setting would keep this switch from doing anything:
        // it becomes every computer's own switch, so only this one changes.
        for (const other of this.settings.computers) other.appendOnly = true;
        this.settings.appendOnly = false;
      }
      if (input.appendOnly !== undefined) computer.appendOnly = input.appendOnly;
      if (input.quotaBytes !== undefined) computer.quotaBytes = input.quotaBytes;
      await this.shared.save();
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  createMaintenanceLogin(): Promise<LoginCreated> {
    return this.shared.mutate(async () => {
      const username = this.settings.maintenanceUser ?? maintenanceUsername(await this.takenNames());
      const password = generatePassword();
      // Recorded before the login exists, so that no moment leaves a login
      // that only its name would make the maintenance login.
      await this.maintenanceRecord.write(username);
      await this.setLogin(username, password);
      this.settings.maintenanceUser = username;
      await this.shared.save();
      await this.shared.reconfigure();
      return { username, password };
    });
  }

  removeMaintenanceLogin(): Promise<AppState> {
    return this.shared.mutate(async () => {
      const username = this.settings.maintenanceUser;
      if (username !== null) await this.removeLogin(username);
      await this.maintenanceRecord.write(null);
      this.settings.maintenanceUser = null;
      await this.shared.save();
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  async commandLines(input: CommandLinesInput): Promise<CommandSet> {
    const maintenance = input.username === this.settings.maintenanceUser;
    const { repository, ...facts } = input;
    if (maintenance && repository === undefined) {
      throw new UserError('repository-needed', 'Choose the computer whose backups the maintenance login should look after.');
    }
    if (!maintenance && repository !== undefined && repository !== input.username) {
      throw new UserError('not-own-repository', 'A computer’s login reaches only its own backups; use the maintenance login for the others.');
    }
    const computer = this.require(repository ?? input.username);
    return buildCommandLines({
      ...facts,
      serverUrl: this.serverUrl(),
      displayName: maintenance ? `${computer.displayName} (maintenance login)` : computer.displayName,
      repoPath: `/${computer.username}/`,
      caFileName: this.settings.tls === 'off' ? null : CA_FILE_NAME,
      backupPaths: input.backupPaths ?? [],
      appendOnly: !maintenance && (this.settings.appendOnly || computer.appendOnly),
      maintenance,
      copy: await this.copyLocation(),
      setUpByLine: setUpBy(computer) === 'line',
    });
  }

  /** Two computers of the same name (ignoring case and spacing) would be told apart by nobody. */
  private requireFreeName(displayName: string, except?: string): void {
    const key = sameNameKey(displayName);
    const other = this.settings.computers.find((computer) => computer.username !== except && sameNameKey(computer.displayName) === key);
    if (other) {
      throw new UserError('name-taken', `There is already a computer called “${other.displayName}”. Give this one another name, e.g. “${displayName.trim()} 2” or the room it is in.`);
    }
  }

  private require(username: string): ComputerRecord {
    const computer = this.shared.computer(username);
    if (!computer) throw new UserError('unknown-computer', `There is no computer with the login ${username}.`);
    return computer;
  }

  /** The running server reads the password file again at once (it would also notice within a second). */
  private async setLogin(user: string, password: string): Promise<void> {
    await this.shared.logins.set(user, password);
    this.shared.supervisor.current?.reloadUsers(true);
  }

  private async removeLogin(user: string): Promise<void> {
    await this.shared.logins.remove(user);
    this.shared.supervisor.current?.reloadUsers(true);
  }

  private async takenNames(): Promise<Set<string>> {
    const users = (await this.shared.logins.read()).users.keys();
    return new Set([...users, ...this.settings.computers.map((computer) => computer.username), ...(this.settings.maintenanceUser ? [this.settings.maintenanceUser] : [])]);
  }
}
