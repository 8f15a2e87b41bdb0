import { EventEmitter } from 'node:events';
import { mkdir, stat, statfs } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join, relative, resolve, basename, isAbsolute } from 'node:path';
import type {
  AddComputerInput,
  Api,
  ApiEvents,
  AppState,
  CaCertificate,
  CertificateView,
  CommandLinesInput,
  CommandSet,
  ComputerOverview,
  DiskView,
  Drive,
  EventName,
  FolderListing,
  LogEntry,
  LoginCreated,
  SettingsPatch,
  StorageView,
  Summary,
} from '../contract.js';
import { DiskGuard, readDiskId } from '../../server/disk-guard.js';
import type { RequestEvent } from '../../server/events.js';
import { createSyncer } from '../../server/fsync.js';
import type { Timeouts } from '../../server/server.js';
import type { TlsOptions } from '../../server/tls-files.js';
import type { UserPolicy } from '../../server/user-policy.js';
import {
  CertificateFiles,
  checkOwnCertificate,
  createAuthority,
  inspectPair,
  issueServerCertificate,
  needsRenewal,
  type ServerNames,
} from './certificates.js';
import { buildCommandLines } from './command-lines.js';
import { listDrives } from './drives.js';
import { UserError } from './errors.js';
import { driveWarnings } from './file-systems.js';
import { browseFolder, createFolder } from './folders.js';
import { generatePassword, Logins, usernameFor } from './logins.js';
import { lanAddresses } from './network.js';
import { readRepoStats, type RepoStats } from './repo-stats.js';
import { RequestLog } from './request-log.js';
import { SettingsStore, USAGE_DAYS, type ComputerRecord, type DiskRecord, type Settings } from './settings.js';
import { describeStatus, isStale } from './status.js';
import { ServerSupervisor, type ServerConfig } from './supervisor.js';
import { notificationsFor } from './tray-model.js';
import { describeTrend, recordUsage } from './usage-trend.js';

export interface ControllerOptions {
  /** Where settings, logins and certificates live (the app's config folder). */
  configDir: string;
  /** This computer's LAN addresses; tests give their own to play a network change. */
  lanAddresses?: () => string[];
  hostName?: string;
  /** How often the network, the certificate, the disks and the computers are looked at. */
  tickMs?: number;
  /** The system's folder dialog (the desktop app); headless mode has none and the GUI browses instead. */
  askFolder?: () => Promise<string | null>;
  /** Run by the desktop app, which shows the tray and notifications and starts with the computer. */
  desktop?: boolean;
  /** Server timeouts (tests shorten the drain). */
  timeouts?: Partial<Timeouts>;
}

export const CA_FILE_NAME = 'restic-tray-server-ca.pem';
export const MAINTENANCE_USER = 'maintenance';
const HTPASSWD_FILE = 'htpasswd';
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The same name for people: case and spaces do not count. */
const sameNameKey = (name: string): string => name.normalize('NFKC').replace(/\s+/g, '').toLocaleLowerCase();

/** Repository figures are trusted this long, or until a client writes to that repository. */
const STATS_MAX_AGE_MS = 60_000;
const STATS_DIRTY_AGE_MS = 5_000;
const DRIVES_MAX_AGE_MS = 30_000;
/** Free space that must come back after a 507 before the disk stops counting as full: 64 MiB, or 1% of a small disk. */
const spaceRegained = (totalBytes: number): number => Math.min(64 * 1024 * 1024, totalBytes * 0.01);

type Events = { [E in EventName]: [ApiEvents[E]] };

const toDate = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

/**
 * The app's brain: every decision the desktop app makes, as plain Node. The
 * Electron shell and the headless web mode only call these methods (the
 * contract) and pass on its events.
 */
export class Controller extends EventEmitter<Events> implements Api {
  private readonly supervisor = new ServerSupervisor();
  private readonly certificates: CertificateFiles;
  private readonly log: RequestLog;
  private readonly stats = new Map<string, { stats: RepoStats; at: number; dirty: boolean }>();
  private notices: { id: string; message: string }[] = [];
  private noticeCount = 0;
  private lastState: AppState | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private mutating: Promise<unknown> = Promise.resolve();
  private networkSeen: string;
  /** Set by a 507; the free space is noted at the next look, and the disk counts as full until more is free. */
  private refusedForSpace: { freeBytes: number | null } | undefined;
  private drives: { at: number; list: Promise<Drive[]> } | undefined;
  private usageSavedDay: string | undefined;
  private closed = false;

  private constructor(
    private readonly options: ControllerOptions,
    private readonly store: SettingsStore,
    private settings: Settings,
    private readonly logins: Logins,
  ) {
    super();
    this.certificates = new CertificateFiles(join(options.configDir, 'tls'));
    this.log = new RequestLog((user) => this.computer(user)?.displayName ?? null);
    this.log.subscribe({
      requests: (entries) => this.emit('requests', entries),
      summary: (summary) => this.emit('summary', summary),
    });
    this.supervisor.on('change', () => this.onSupervisorChange());
    this.supervisor.on('requests', (events) => this.onRequests(events));
    this.supervisor.on('warning', (message) => this.log.note({ time: new Date().toISOString(), user: null, message, severity: 'warning' }));
    this.networkSeen = JSON.stringify(this.lan());
    this.ticker = setInterval(() => void this.tick(), options.tickMs ?? 10_000);
    this.ticker.unref();
  }

  /** Loads the settings and logins (reporting damage, losing nothing) and resumes serving if it served before. */
  static async open(options: ControllerOptions): Promise<Controller> {
    await mkdir(options.configDir, { recursive: true, mode: 0o700 });
    const store = new SettingsStore(options.configDir);
    const { settings, problem } = await store.load();
    const logins = new Logins(join(options.configDir, HTPASSWD_FILE));
    const controller = new Controller(options, store, settings, logins);
    if (problem) controller.addNotice(problem);
    await controller.checkLogins();
    if (settings.serving && settings.currentDiskId !== null) {
      await controller.start().catch((error: Error) => controller.addNotice(error.message));
    }
    return controller;
  }

  /** Stops the server (uploads in flight may finish) and the timers; the settings stay as they are. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ticker);
    clearTimeout(this.stateTimer);
    await this.supervisor.stop();
  }

  /** Reads the password file: damage is reported, and logins that lost their settings are taken back as computers. */
  private async checkLogins(): Promise<void> {
    const parsed = await this.logins.read();
    if (parsed.broken > 0) {
      this.addNotice(
        `The login file ${this.logins.file} is damaged (${parsed.problems.join('; ')}). Computers whose line is damaged cannot log in: reset their passwords. A copy of the damaged file is kept when it is next changed.`,
      );
    }
    const known = new Set([...this.settings.computers.map((computer) => computer.username), this.settings.maintenanceUser]);
    const found = [...parsed.users.keys()].filter((user) => !known.has(user));
    if (found.length > 0) {
      const now = new Date().toISOString();
      for (const username of found) {
        if (username === MAINTENANCE_USER) this.settings.maintenanceUser = username;
        else this.settings.computers.push({ username, displayName: username, appendOnly: true, quotaBytes: null, createdAt: now });
      }
      await this.store.save(this.settings);
      this.addNotice(`Logins without settings were found and kept: ${found.join(', ')}. Rename them in Computers.`);
    }
    await this.logins.ensure();
  }

  // ---- the contract -------------------------------------------------------

  getState(): Promise<AppState> {
    return this.composeState();
  }

  startServer(): Promise<AppState> {
    return this.mutate(async () => {
      await this.start();
      return this.composeState();
    });
  }

  stopServer(): Promise<AppState> {
    return this.mutate(async () => {
      this.settings.serving = false;
      await this.store.save(this.settings);
      await this.supervisor.stop();
      return this.composeState();
    });
  }

  updateSettings(patch: SettingsPatch): Promise<AppState> {
    return this.mutate(async () => {
      if (Array.isArray(patch.listenAddresses)) this.checkOwnAddresses(patch.listenAddresses);
      this.settings = { ...this.settings, ...patch };
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  async dismissNotice(input: { id: string }): Promise<AppState> {
    this.notices = this.notices.filter((notice) => notice.id !== input.id);
    return this.composeState();
  }

  listDrives(): Promise<Drive[]> {
    return listDrives();
  }

  async browseFolder(input: { path?: string }): Promise<FolderListing> {
    const contents = await browseFolder(input.path);
    return { ...contents, drive: (await this.driveOf(contents.path)) ?? null };
  }

  async createFolder(input: { parent: string; name: string }): Promise<FolderListing> {
    const contents = await createFolder(input.parent, input.name);
    return { ...contents, drive: (await this.driveOf(contents.path)) ?? null };
  }

  async pickFolder(): Promise<string | null> {
    return this.options.askFolder ? this.options.askFolder() : null;
  }

  chooseFolder(input: { path: string; label?: string }): Promise<AppState> {
    return this.mutate(async () => {
      const folder = resolve(input.path);
      this.checkDataFolder(folder);
      let diskId: string;
      try {
        diskId = (await DiskGuard.open(folder, createSyncer(() => undefined))).diskId;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
          throw new UserError('folder-not-writable', `This app may not write in ${folder}. Choose a folder you own, or a disk that is not read-only.`);
        }
        throw new UserError('folder-unusable', (error as Error).message.replace(/^./, (c) => c.toUpperCase()));
      }
      const label = input.label ?? (await this.driveLabel(folder)) ?? basename(folder);
      const known = this.settings.disks.find((disk) => disk.id === diskId);
      if (known) {
        known.folder = folder;
        if (input.label) known.label = input.label;
      } else {
        this.settings.disks.push({ id: diskId, label, folder, adoptedAt: new Date().toISOString(), lastBackupAt: null, usage: [] });
      }
      if (this.settings.currentDiskId !== diskId) this.stats.clear();
      this.settings.currentDiskId = diskId;
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  forgetDisk(input: { diskId: string }): Promise<AppState> {
    return this.mutate(async () => {
      if (!this.settings.disks.some((disk) => disk.id === input.diskId)) throw new UserError('unknown-disk', 'This disk is not known (any more).');
      if (input.diskId === this.settings.currentDiskId) {
        throw new UserError('disk-in-use', 'This is the disk in use. Choose another folder first, then forget this one.');
      }
      this.settings.disks = this.settings.disks.filter((disk) => disk.id !== input.diskId);
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  ejectDisk(): Promise<{ safe: boolean; message: string }> {
    return this.mutate(async () => {
      const label = this.currentDisk()?.label ?? 'the backup disk';
      this.settings.serving = false;
      await this.store.save(this.settings);
      await this.supervisor.stop();
      this.scheduleState();
      return { safe: true, message: `It is now safe to unplug “${label}”: the server stopped after the last upload. Press Start when the disk is back.` };
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

  addComputer(input: AddComputerInput): Promise<LoginCreated> {
    return this.mutate(async () => {
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
      await this.store.save(this.settings);
      await this.reconfigure();
      return { username, password };
    });
  }

  removeComputer(input: { username: string }): Promise<AppState> {
    return this.mutate(async () => {
      this.requireComputer(input.username);
      await this.removeLogin(input.username);
      this.settings.computers = this.settings.computers.filter((computer) => computer.username !== input.username);
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  resetPassword(input: { username: string }): Promise<LoginCreated> {
    return this.mutate(async () => {
      if (input.username !== this.settings.maintenanceUser) this.requireComputer(input.username);
      const password = generatePassword();
      await this.setLogin(input.username, password);
      return { username: input.username, password };
    });
  }

  renameComputer(input: { username: string; displayName: string }): Promise<AppState> {
    return this.mutate(async () => {
      const computer = this.requireComputer(input.username);
      this.requireFreeName(input.displayName, computer.username);
      computer.displayName = input.displayName;
      await this.store.save(this.settings);
      return this.composeState();
    });
  }

  updateComputer(input: { username: string; appendOnly?: boolean; quotaBytes?: number | null }): Promise<AppState> {
    return this.mutate(async () => {
      const computer = this.requireComputer(input.username);
      if (input.appendOnly !== undefined) computer.appendOnly = input.appendOnly;
      if (input.quotaBytes !== undefined) computer.quotaBytes = input.quotaBytes;
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  createMaintenanceLogin(): Promise<LoginCreated> {
    return this.mutate(async () => {
      const username = this.settings.maintenanceUser ?? usernameFor(MAINTENANCE_USER, await this.takenNames());
      const password = generatePassword();
      await this.setLogin(username, password);
      this.settings.maintenanceUser = username;
      await this.store.save(this.settings);
      await this.reconfigure();
      return { username, password };
    });
  }

  removeMaintenanceLogin(): Promise<AppState> {
    return this.mutate(async () => {
      const username = this.settings.maintenanceUser;
      if (username !== null) await this.removeLogin(username);
      this.settings.maintenanceUser = null;
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
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
    const computer = this.requireComputer(repository ?? input.username);
    return buildCommandLines({
      ...facts,
      serverUrl: this.clientUrl(true) as string,
      displayName: maintenance ? `${computer.displayName} (maintenance login)` : computer.displayName,
      repoPath: `/${computer.username}/`,
      caFileName: this.settings.tls === 'off' ? null : CA_FILE_NAME,
      backupPaths: input.backupPaths ?? [],
    });
  }

  setTls(input: { enabled: boolean }): Promise<AppState> {
    return this.mutate(async () => {
      const own = (await this.certificates.read(this.certificates.own)) !== undefined;
      this.settings.tls = input.enabled ? (own ? 'own' : 'household') : 'off';
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  async caCertificate(): Promise<CaCertificate> {
    if (this.settings.tls === 'off') throw new UserError('tls-off', 'TLS is off, so there is no certificate to give to the computers. Turn TLS on in Security.');
    const files = this.settings.tls === 'own' ? this.certificates.own : this.certificates.authority;
    const pair = this.settings.tls === 'household' ? await this.authority() : await this.certificates.read(files);
    if (!pair) throw new UserError('no-certificate', 'The certificate file is missing. Import your certificate again, or use the household certificate.');
    const info = inspectPair(pair);
    if (!info) throw new UserError('certificate-damaged', 'The certificate file is damaged. Import your certificate again, or use the household certificate.');
    return { fileName: CA_FILE_NAME, pem: pair.certificatePem, fingerprint: info.fingerprint };
  }

  regenerateCertificates(input: { authority: boolean }): Promise<AppState> {
    return this.mutate(async () => {
      if (this.settings.tls !== 'household') {
        throw new UserError('not-household', 'Only the household certificate can be made again here. Switch to it in Security first.');
      }
      if (input.authority) {
        await this.certificates.write(this.certificates.authority, await createAuthority(this.hostName()));
        this.addNotice('A new household certificate authority was made: save its file again on every computer (Computers), or their backups stop.');
      }
      await this.issueServerCertificate();
      return this.composeState();
    });
  }

  importCertificate(input: { certificatePem: string; keyPem: string }): Promise<AppState> {
    return this.mutate(async () => {
      checkOwnCertificate(input);
      await this.certificates.write(this.certificates.own, input);
      this.settings.tls = 'own';
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  useHouseholdCertificate(): Promise<AppState> {
    return this.mutate(async () => {
      this.settings.tls = 'household';
      await this.store.save(this.settings);
      await this.reconfigure();
      return this.composeState();
    });
  }

  async recentRequests(input: { limit?: number }): Promise<LogEntry[]> {
    return this.log.recent(input.limit);
  }

  async recentSummaries(): Promise<Summary[]> {
    return this.log.recentSummaries();
  }

  // ---- serving ------------------------------------------------------------

  /** One change at a time: a second click waits for the first. */
  private mutate<T>(task: () => Promise<T>): Promise<T> {
    const next = this.mutating.then(task);
    this.mutating = next.catch(() => undefined);
    void next.then(
      () => this.scheduleState(),
      () => undefined,
    );
    return next;
  }

  private async start(): Promise<void> {
    if (this.settings.currentDiskId === null) throw new UserError('no-folder', 'Choose the folder or disk for the backups first (Storage).');
    this.settings.serving = true;
    await this.store.save(this.settings);
    await this.supervisor.start(await this.serverConfig());
  }

  /** After a settings change: the running server follows (live, or by a restart). */
  private async reconfigure(): Promise<void> {
    if (this.supervisor.phase === 'stopped' || !this.settings.serving) return;
    await this.supervisor.apply(await this.serverConfig());
  }

  private async serverConfig(): Promise<ServerConfig> {
    const users = new Map<string, UserPolicy>();
    for (const computer of this.settings.computers) {
      users.set(computer.username, {
        appendOnly: this.settings.appendOnly || computer.appendOnly,
        ...(computer.quotaBytes !== null ? { quotaBytes: computer.quotaBytes } : {}),
      });
    }
    if (this.settings.maintenanceUser !== null) users.set(this.settings.maintenanceUser, { maintenance: true });
    const current = this.currentDisk();
    const disks = [...(current ? [current] : []), ...this.settings.disks.filter((disk) => disk !== current)];
    return {
      disks: disks.map(({ id, label, folder }) => ({ id, label, folder })),
      htpasswdFile: this.logins.file,
      tls: await this.prepareTls(),
      appendOnly: this.settings.appendOnly,
      users,
      addresses: this.listenHosts(),
      port: this.settings.port,
      timeouts: this.options.timeouts,
    };
  }

  private async prepareTls(): Promise<TlsOptions | undefined> {
    if (this.settings.tls === 'off') return undefined;
    if (this.settings.tls === 'own') {
      if (!(await this.certificates.read(this.certificates.own))) {
        throw new UserError('no-certificate', 'The certificate you imported is gone from the settings folder. Import it again, or use the household certificate (Security).');
      }
      return { certFile: this.certificates.own.certificate, keyFile: this.certificates.own.key };
    }
    await this.renewServerCertificateIfNeeded();
    return { certFile: this.certificates.server.certificate, keyFile: this.certificates.server.key };
  }

  /** A missing, damaged, ending or incomplete server certificate is issued again. */
  private async renewServerCertificateIfNeeded(): Promise<void> {
    const server = await this.certificates.read(this.certificates.server);
    const info = server && inspectPair(server);
    if (server && !info) this.addNotice('The server certificate file was damaged; a new one was made. The computers keep working: they trust the household authority.');
    if (!info || needsRenewal(info, this.serverNames())) await this.issueServerCertificate();
  }

  private async authority() {
    const existing = await this.certificates.read(this.certificates.authority);
    if (existing && !inspectPair(existing)) {
      this.addNotice(
        'The household certificate authority file is damaged. Make a new authority in Security (Make a new authority); then save its file again on every computer, as their backups stop until then.',
      );
      throw new UserError(
        'authority-damaged',
        'The household certificate authority file is damaged, so no server certificate can be made. Make a new authority in Security; then save its file again on every computer.',
      );
    }
    if (existing) return existing;
    const created = await createAuthority(this.hostName());
    await this.certificates.write(this.certificates.authority, created);
    return created;
  }

  /** A new server certificate for the current names; the running server swaps it in by itself. */
  private async issueServerCertificate(): Promise<void> {
    await this.certificates.write(this.certificates.server, await issueServerCertificate(await this.authority(), this.serverNames()));
  }

  private hostName(): string {
    return this.options.hostName ?? hostname();
  }

  private lan(): string[] {
    return (this.options.lanAddresses ?? lanAddresses)();
  }

  /** Every name and address computers may use to reach this one. */
  private serverNames(): ServerNames {
    const host = this.hostName().toLowerCase();
    const hostNames = ['localhost', host, ...(host.includes('.') ? [] : [`${host}.local`])];
    const chosen = Array.isArray(this.settings.listenAddresses) ? this.settings.listenAddresses.filter((address) => !WILDCARDS.has(address)) : [];
    return { hostNames, addresses: [...new Set([...this.lan(), ...chosen, '127.0.0.1', '::1'])] };
  }

  private listenHosts(): string[] {
    return this.settings.listenAddresses === 'auto' ? [...this.lan(), '127.0.0.1'] : this.settings.listenAddresses;
  }

  /** The address computers use; with `evenIfStopped`, the one they will use once it serves. */
  private clientUrl(evenIfStopped = false): string | null {
    if (!evenIfStopped && !['serving', 'attention', 'disk-missing'].includes(this.supervisor.phase)) return null;
    const hosts = this.listenHosts().flatMap((host) => (WILDCARDS.has(host) ? this.lan() : [host]));
    const host = hosts.find((candidate) => !['127.0.0.1', '::1'].includes(candidate)) ?? hosts[0] ?? '127.0.0.1';
    const scheme = this.settings.tls === 'off' ? 'http' : 'https';
    return `${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${this.settings.port}/`;
  }

  private checkOwnAddresses(addresses: string[]): void {
    const own = new Set([...Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address)), ...this.lan()]);
    const foreign = addresses.filter((address) => !WILDCARDS.has(address) && !own.has(address));
    if (foreign.length > 0) {
      throw new UserError('unknown-address', `${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not an address of this computer. Choose among ${[...own].join(', ')}.`);
    }
  }

  private checkDataFolder(folder: string): void {
    const config = resolve(this.options.configDir);
    const inside = (parent: string, child: string) => {
      const path = relative(parent, child);
      return path === '' || (!path.startsWith('..') && !isAbsolute(path));
    };
    if (folder === resolve('/')) throw new UserError('folder-is-root', 'Choose a folder on the disk, not the whole system disk.');
    if (inside(config, folder) || inside(folder, config)) {
      throw new UserError('folder-is-config', 'This folder holds (or is inside) the app’s own settings. Choose another folder for the backups.');
    }
  }

  /** The running server reads the password file again at once (it would also notice within a second). */
  private async setLogin(user: string, password: string): Promise<void> {
    await this.logins.set(user, password);
    this.supervisor.current?.reloadUsers();
  }

  private async removeLogin(user: string): Promise<void> {
    await this.logins.remove(user);
    this.supervisor.current?.reloadUsers();
  }

  private currentDisk(): DiskRecord | undefined {
    return this.settings.disks.find((disk) => disk.id === this.settings.currentDiskId);
  }

  private computer(user: string | null): ComputerRecord | undefined {
    return this.settings.computers.find((computer) => computer.username === user);
  }

  private requireComputer(username: string): ComputerRecord {
    const computer = this.computer(username);
    if (!computer) throw new UserError('unknown-computer', `There is no computer with the login ${username}.`);
    return computer;
  }

  private async takenNames(): Promise<Set<string>> {
    const users = (await this.logins.read()).users.keys();
    return new Set([...users, ...this.settings.computers.map((computer) => computer.username), ...(this.settings.maintenanceUser ? [this.settings.maintenanceUser] : [])]);
  }

  private async driveLabel(folder: string): Promise<string | undefined> {
    const drive = await this.driveOf(folder);
    return drive && drive.mountPoint !== '/' ? drive.label : undefined;
  }

  /** The drive a folder lives on: the longest mount point that contains it, if the folder is on that same device. */
  private async driveOf(folder: string): Promise<Drive | undefined> {
    // Mounts change rarely; the state is composed often (and lsblk takes a moment).
    if (!this.drives || Date.now() - this.drives.at > DRIVES_MAX_AGE_MS) this.drives = { at: Date.now(), list: listDrives().catch(() => []) };
    const drive = (await this.drives.list)
      .filter((candidate) => {
        const path = relative(candidate.mountPoint, folder);
        return path === '' || (!path.startsWith('..') && !isAbsolute(path));
      })
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (!drive) return undefined;
    // A folder on a file system the list leaves out (a tmpfs, a bind mount) is not on the drive above it.
    const [own, mount] = await Promise.all([stat(folder).catch(() => undefined), stat(drive.mountPoint).catch(() => undefined)]);
    return own && mount && own.dev === mount.dev ? drive : undefined;
  }

  /** Saves after a change the server made (not the user): a failure becomes a notice. */
  private saveInBackground(): void {
    this.store.save(this.settings).catch((error: Error) => this.addNotice(`Cannot save the settings in ${this.store.file} (${error.message}). Check that the disk is not full.`));
  }

  /** A rotating disk was switched to: it is the current disk from now on. */
  private onSupervisorChange(): void {
    const served = this.supervisor.disk;
    if (this.supervisor.phase === 'serving' && served && served.id !== this.settings.currentDiskId) {
      this.settings.currentDiskId = served.id;
      this.stats.clear();
      this.saveInBackground();
    }
    this.scheduleState();
  }

  private onRequests(events: RequestEvent[]): void {
    this.log.add(events);
    let snapshotSaved = false;
    for (const event of events) {
      if (event.status === 507) this.refusedForSpace = { freeBytes: null };
      if (event.user === null || event.repo === null) continue;
      const written = event.method === 'POST' || event.method === 'DELETE';
      const stats = this.stats.get(event.repo.split('/')[0] ?? '');
      if (written && stats) stats.dirty = true;
      if (event.method === 'POST' && event.type === 'snapshots' && event.status === 200) snapshotSaved = true;
    }
    if (snapshotSaved) {
      const disk = this.settings.disks.find((candidate) => candidate.id === this.supervisor.disk?.id);
      if (disk) {
        disk.lastBackupAt = new Date().toISOString();
        this.saveInBackground();
      }
      this.scheduleState();
    }
  }

  /** Every few seconds: network changes (new addresses, a renewed certificate), silent restic runs, the state. */
  private async tick(): Promise<void> {
    if (this.closed) return;
    this.log.expire();
    try {
      await this.mutate(() => this.followNetwork());
    } catch (error) {
      this.log.note({ time: new Date().toISOString(), user: null, message: (error as Error).message, severity: 'error' });
    }
    this.scheduleState();
  }

  /** Re-checks the LAN addresses and the certificate now (the tick does this every few seconds). */
  refreshNetwork(): Promise<void> {
    return this.mutate(() => this.followNetwork());
  }

  private async followNetwork(): Promise<void> {
    const seen = JSON.stringify(this.lan());
    const changed = seen !== this.networkSeen;
    this.networkSeen = seen;
    if (this.settings.tls === 'household' && this.supervisor.phase !== 'stopped') await this.renewServerCertificateIfNeeded();
    if (changed) await this.reconfigure();
  }

  // ---- state --------------------------------------------------------------

  private addNotice(message: string): void {
    if (this.notices.some((notice) => notice.message === message)) return;
    this.notices.push({ id: `notice-${++this.noticeCount}`, message });
    this.scheduleState();
  }

  /** Coalesces bursts of changes into one state event. */
  private scheduleState(): void {
    if (this.stateTimer || this.closed) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      void this.composeState().then(
        (state) => this.publish(state),
        () => undefined,
      );
    }, 200);
  }

  private publish(state: AppState): void {
    const previous = this.lastState;
    this.lastState = state;
    if (previous && JSON.stringify(previous) === JSON.stringify(state)) return;
    this.emit('state', state);
    if (this.settings.notifications) for (const notification of notificationsFor(previous, state)) this.emit('notification', notification);
  }

  private async repoStats(username: string, folder: string): Promise<RepoStats | undefined> {
    const cached = this.stats.get(username);
    const age = cached ? Date.now() - cached.at : Infinity;
    if (cached && age < (cached.dirty ? STATS_DIRTY_AGE_MS : STATS_MAX_AGE_MS)) return cached.stats;
    const stats = await readRepoStats(join(folder, username)).catch(() => undefined);
    if (stats) this.stats.set(username, { stats, at: Date.now(), dirty: false });
    return stats;
  }

  private async storageView(disk: DiskView): Promise<StorageView | null> {
    const space = await statfs(disk.folder).catch(() => undefined);
    if (!space) return null;
    const drive = await this.driveOf(disk.folder);
    const freeBytes = space.bavail * space.bsize;
    const totalBytes = space.blocks * space.bsize;
    if (this.refusedForSpace) {
      if (this.refusedForSpace.freeBytes === null) this.refusedForSpace.freeBytes = freeBytes;
      else if (freeBytes > this.refusedForSpace.freeBytes + spaceRegained(totalBytes)) this.refusedForSpace = undefined;
    }
    const record = this.settings.disks.find((candidate) => candidate.id === disk.id);
    const now = new Date();
    if (record) {
      record.usage = recordUsage(record.usage, totalBytes - freeBytes, now, USAGE_DAYS);
      // One write a day; later measurements of the same day ride along with the next save.
      const day = record.usage.at(-1)?.day;
      if (day !== this.usageSavedDay) {
        this.usageSavedDay = day;
        this.saveInBackground();
      }
    }
    return {
      folder: disk.folder,
      diskId: disk.id,
      label: disk.label,
      trend: record ? describeTrend(record.usage, freeBytes, now) : null,
      totalBytes,
      freeBytes,
      fileSystem: drive?.fileSystem ?? null,
      warnings: drive ? driveWarnings(drive) : [],
    };
  }

  private async certificateView(): Promise<{ view: CertificateView; notAfter: Date | null }> {
    const mode = this.settings.tls;
    if (mode === 'off') return { view: { mode, fingerprint: null, serverNotAfter: null, names: [] }, notAfter: null };
    // A damaged file shows as no certificate; the state still loads and a notice says what to do.
    const trusted = await this.certificates.read(mode === 'own' ? this.certificates.own : this.certificates.authority);
    const served = mode === 'own' ? trusted : await this.certificates.read(this.certificates.server);
    const info = served && inspectPair(served);
    return {
      view: {
        mode,
        fingerprint: (trusted && inspectPair(trusted)?.fingerprint) ?? null,
        serverNotAfter: info?.notAfter.toISOString() ?? null,
        names: info?.names ?? [],
      },
      notAfter: info?.notAfter ?? null,
    };
  }

  private async composeState(): Promise<AppState> {
    const now = new Date();
    const phase = this.supervisor.phase;
    const disks: DiskView[] = await Promise.all(
      this.settings.disks.map(async (disk) => ({
        id: disk.id,
        label: disk.label,
        folder: disk.folder,
        present: (await readDiskId(disk.folder)) === disk.id,
        current: disk.id === this.settings.currentDiskId,
        lastBackupAt: disk.lastBackupAt,
      })),
    );
    // Only a disk that is really there is looked at: a bare mount point would show empty repositories.
    const readable = disks.find((disk) => disk.current && disk.present && phase !== 'disk-missing');
    const computers: ComputerOverview[] = await Promise.all(
      this.settings.computers.map(async (computer) => {
        // While the disk is away, the figures last read from it stand.
        const stats = readable ? await this.repoStats(computer.username, readable.folder) : this.stats.get(computer.username)?.stats;
        const lastBackupAt = stats?.lastBackupAt ?? null;
        return {
          username: computer.username,
          displayName: computer.displayName,
          repoPath: `/${computer.username}/`,
          appendOnly: this.settings.appendOnly || computer.appendOnly,
          quotaBytes: computer.quotaBytes,
          createdAt: computer.createdAt,
          sizeBytes: stats?.exists ? stats.sizeBytes : null,
          snapshots: stats?.snapshots ?? 0,
          lastBackupAt: lastBackupAt?.toISOString() ?? null,
          locks: stats?.locks ?? 0,
          stale: isStale({ createdAt: new Date(computer.createdAt), lastBackupAt }, this.settings.staleDays, now),
        };
      }),
    );
    const storage = readable ? await this.storageView(readable) : null;
    const certificate = await this.certificateView();
    const view = describeStatus({
      phase,
      error: this.supervisor.problem,
      diskLabel: this.supervisor.disk?.label ?? this.currentDisk()?.label,
      clientUrl: this.clientUrl(),
      computers: computers.map((computer) => ({
        username: computer.username,
        displayName: computer.displayName,
        createdAt: new Date(computer.createdAt),
        lastBackupAt: toDate(computer.lastBackupAt),
      })),
      staleDays: this.settings.staleDays,
      disk: storage && { totalBytes: storage.totalBytes, freeBytes: storage.freeBytes },
      refusedForSpace: this.refusedForSpace !== undefined,
      certificateNotAfter: certificate.notAfter,
      now,
    });
    return {
      ...view,
      clientUrl: this.clientUrl(),
      listening: this.supervisor.listening,
      setupComplete: this.settings.setupComplete,
      nativeFolderDialog: this.options.askFolder !== undefined,
      desktop: this.options.desktop === true,
      storage,
      disks,
      computers,
      maintenanceUser: this.settings.maintenanceUser,
      certificate: certificate.view,
      settings: {
        listenAddresses: this.settings.listenAddresses,
        port: this.settings.port,
        appendOnly: this.settings.appendOnly,
        staleDays: this.settings.staleDays,
        autostart: this.settings.autostart,
        notifications: this.settings.notifications,
        keepAwake: this.settings.keepAwake,
      },
      notices: [...this.notices],
    };
  }
}
