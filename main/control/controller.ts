import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  AddComputerInput, Api, ApiEvents, AppState, CaCertificate, CommandLinesInput, CommandSet, ConnectInput, ConnectLine, Drive, EventName, FolderListing,
  GuiAddress, LogEntry, LoginCreated, OffsiteInput, OffsiteS3Input, OffsiteSftpInput, RetentionPolicy, RetentionPreview, SettingsPatch, SetupFile,
  SftpHostKey, Summary,
} from '../contract.js';
import { Activity } from './activity/activity.js';
import { StateRoom } from './app-state.js';
import { Caretaker, type Keychain } from './caretaker/caretaker.js';
import { Computers } from './computers/computers.js';
import { Connect } from './connect/connect.js';
import { Disks } from './disks/disks.js';
import { Integrity } from './integrity/integrity.js';
import { Logins } from './core/logins.js';
import { Offsite } from './offsite/offsite.js';
import { Serving } from './serving/serving.js';
import { SettingsStore, type Settings } from './core/settings.js';
import { Shared, type ControllerOptions } from './core/shared.js';
import { Tls } from './tls/tls.js';

export { CA_FILE_NAME, type ControllerOptions } from './core/shared.js';
export type { Keychain } from './caretaker/caretaker.js';
export { MAINTENANCE_USER } from './core/logins.js';

const HTPASSWD_FILE = 'htpasswd';

/** The system keychain comes from the desktop app; without it kept passwords are locked by a key file. */
export type OpenOptions = ControllerOptions & { keychain?: Keychain };

type Events = { [E in EventName]: [ApiEvents[E]] };

/**
 * The app's brain: every decision the desktop app makes, as plain Node. The
 * Electron shell and the headless web mode only call these methods (the
 * contract) and pass on its events. It holds no state and no logic of its
 * own: each method forwards to the room that owns it (see
 * docs/architecture.md).
 */
export class Controller extends EventEmitter<Events> implements Api {
  private readonly shared: Shared;
  private readonly computers: Computers;
  private readonly disks: Disks;
  private readonly tls: Tls;
  private readonly serving: Serving;
  private readonly activity: Activity;
  private readonly integrity: Integrity;
  private readonly offsite: Offsite;
  private readonly connect: Connect;
  private readonly caretaker: Caretaker;
  private readonly state: StateRoom;

  private constructor(options: OpenOptions, store: SettingsStore, settings: Settings, logins: Logins) {
    super();
    // The rooms emit the contract's events through this; `Events` types them for listeners.
    const emit = (event: EventName, payload: unknown) => (this.emit as (event: EventName, payload: unknown) => boolean)(event, payload);
    this.shared = new Shared(options, store, settings, logins, emit, {
      serverConfig: () => this.serving.serverConfig(),
      composeState: () => this.state.compose(),
    });
    this.tls = new Tls(this.shared);
    this.computers = new Computers(this.shared, () => this.serving.addressForComputers(), () => this.offsite.copyLocation());
    this.serving = new Serving(this.shared, {
      setup: (request) => this.connect.answer(request),
      users: () => this.computers.userPolicies(),
      prepareTls: () => this.tls.prepare(),
      renewCertificate: () => this.tls.renewIfNeeded(),
    });
    this.disks = new Disks(this.shared);
    this.activity = new Activity(this.shared);
    this.integrity = new Integrity(this.shared, {
      fetchFromCopy: (relative, destination) => this.offsite.fetchObject(relative, destination),
      repairByDesktop: (repo) => this.caretaker.repairAfterScrub(repo),
    });
    this.offsite = new Offsite(this.shared, () => this.integrity.checkIntegrity());
    this.connect = new Connect(this.shared, {
      clientUrl: () => this.serving.clientUrl(),
      served: () => this.tls.served(),
      authority: async () => (await this.tls.caCertificate()).pem,
    });
    this.caretaker = new Caretaker(this.shared, options.keychain, {
      activityOf: (username) => this.activity.activityOf(username),
      copying: () => this.offsite.view().running !== null,
      spaceFreed: (diskId, bytes) => void this.disks.spaceFreed(diskId, bytes),
    });
    this.state = new StateRoom(this.shared, { disks: this.disks, tls: this.tls, serving: this.serving, activity: this.activity, integrity: this.integrity, offsite: this.offsite, caretaker: this.caretaker });
  }

  /** Loads the settings and logins (reporting damage, losing nothing) and resumes serving if it served before. */
  static async open(options: OpenOptions): Promise<Controller> {
    await mkdir(options.configDir, { recursive: true, mode: 0o700 });
    const store = new SettingsStore(options.configDir);
    const { settings, problem } = await store.load();
    const controller = new Controller(options, store, settings, new Logins(join(options.configDir, HTPASSWD_FILE)));
    if (problem) controller.shared.addNotice(problem);
    await controller.computers.checkLogins();
    await controller.offsite.refresh();
    await controller.caretaker.open();
    if (settings.serving && settings.currentDiskId !== null) {
      await controller.serving.start().catch((error: Error) => controller.shared.addNotice(error.message));
    }
    return controller;
  }

  /** Stops the server (uploads in flight may finish) and the timers; the settings stay as they are. */
  async close(): Promise<void> {
    this.state.close();
    await this.integrity.close();
    await this.offsite.close();
    await this.caretaker.close();
    await this.shared.close();
  }

  // The state and the server's life.
  getState(): Promise<AppState> {
    return this.state.compose();
  }
  dismissNotice(input: { id: string }): Promise<AppState> {
    return this.state.dismissNotice(input);
  }
  startServer(): Promise<AppState> {
    return this.serving.startServer();
  }
  stopServer(): Promise<AppState> {
    return this.serving.stopServer();
  }
  updateSettings(patch: SettingsPatch): Promise<AppState> {
    return this.serving.updateSettings(patch);
  }
  newGuiAddress(): Promise<GuiAddress> {
    return this.state.newGuiAddress();
  }
  refreshNetwork(): Promise<void> {
    return this.serving.refreshNetwork();
  }

  // Disks and folders.
  listDrives(): Promise<Drive[]> {
    return this.disks.listDrives();
  }
  browseFolder(input: { path?: string }): Promise<FolderListing> {
    return this.disks.browseFolder(input);
  }
  createFolder(input: { parent: string; name: string }): Promise<FolderListing> {
    return this.disks.createFolder(input);
  }
  pickFolder(): Promise<string | null> {
    return this.disks.pickFolder();
  }
  chooseFolder(input: { path: string; label?: string }): Promise<AppState> {
    return this.disks.chooseFolder(input);
  }
  forgetDisk(input: { diskId: string }): Promise<AppState> {
    return this.disks.forgetDisk(input);
  }
  ejectDisk(): Promise<{ safe: boolean; message: string }> {
    return this.disks.ejectDisk();
  }

  // Computers and logins.
  addComputer(input: AddComputerInput): Promise<LoginCreated> {
    return this.computers.add(input);
  }
  removeComputer(input: { username: string }): Promise<AppState> {
    return this.computers.remove(input);
  }
  resetPassword(input: { username: string }): Promise<LoginCreated> {
    return this.computers.resetPassword(input);
  }
  renameComputer(input: { username: string; displayName: string }): Promise<AppState> {
    return this.computers.rename(input);
  }
  updateComputer(input: { username: string; appendOnly?: boolean; quotaBytes?: number | null }): Promise<AppState> {
    return this.computers.update(input);
  }
  createMaintenanceLogin(): Promise<LoginCreated> {
    return this.computers.createMaintenanceLogin();
  }
  removeMaintenanceLogin(): Promise<AppState> {
    return this.computers.removeMaintenanceLogin();
  }
  commandLines(input: CommandLinesInput): Promise<CommandSet> {
    return this.computers.commandLines(input);
  }

  // Certificates.
  setTls(input: { enabled: boolean }): Promise<AppState> {
    return this.tls.setTls(input);
  }
  caCertificate(): Promise<CaCertificate> {
    return this.tls.caCertificate();
  }
  regenerateCertificates(input: { authority: boolean }): Promise<AppState> {
    return this.tls.regenerateCertificates(input);
  }
  importCertificate(input: { certificatePem: string; keyPem: string }): Promise<AppState> {
    return this.tls.importCertificate(input);
  }
  useHouseholdCertificate(): Promise<AppState> {
    return this.tls.useHouseholdCertificate();
  }

  // Activity.
  recentRequests(input: { limit?: number }): Promise<LogEntry[]> {
    return this.activity.recentRequests(input);
  }
  recentSummaries(): Promise<Summary[]> {
    return this.activity.recentSummaries();
  }

  // Integrity checks of the backup disk.
  checkIntegrity(): Promise<AppState> {
    return this.integrity.checkIntegrity();
  }
  markRepaired(input: { repo: string }): Promise<AppState> {
    return this.integrity.markRepaired(input);
  }

  // The offsite copy.
  setOffsite(input: OffsiteInput): Promise<AppState> {
    return this.offsite.setOffsite(input);
  }
  sftpHostKey(input: { host: string; port?: number }): Promise<SftpHostKey> {
    return this.offsite.sftpHostKey(input);
  }
  setOffsiteSftp(input: OffsiteSftpInput): Promise<AppState> {
    return this.offsite.setOffsiteSftp(input);
  }
  setOffsiteS3(input: OffsiteS3Input): Promise<AppState> {
    return this.offsite.setOffsiteS3(input);
  }
  removeOffsite(): Promise<AppState> {
    return this.offsite.removeOffsite();
  }
  copyOffsiteNow(): Promise<AppState> {
    return this.offsite.copyOffsiteNow();
  }
  rebuildFromCopy(): Promise<AppState> {
    return this.offsite.rebuildFromCopy();
  }

  // Connecting a computer with one line, or a file.
  connectComputer(input: ConnectInput): Promise<ConnectLine> {
    return this.connect.connectComputer(input);
  }
  setupFile(input: ConnectInput): Promise<SetupFile> {
    return this.connect.setupFile(input);
  }

  // The desktop looking after the backups: restic here, the kept passwords.
  setResticPath(input: { path: string | null }): Promise<AppState> {
    return this.caretaker.setResticPath(input);
  }
  keepPassword(input: { username: string; password: string }): Promise<AppState> {
    return this.caretaker.keepPassword(input);
  }
  showPassword(input: { username: string }): Promise<{ password: string }> {
    return this.caretaker.showPassword(input);
  }
  forgetPassword(input: { username: string }): Promise<AppState> {
    return this.caretaker.forgetPassword(input);
  }
  previewRetention(input: { username: string; policy?: RetentionPolicy }): Promise<RetentionPreview> {
    return this.caretaker.previewRetention(input);
  }
  setRetentionPolicy(input: { username: string; policy: RetentionPolicy }): Promise<AppState> {
    return this.caretaker.setRetentionPolicy(input);
  }
  runRetention(input: { username: string }): Promise<AppState> {
    return this.caretaker.runRetention(input);
  }
  checkBackups(input: { username: string }): Promise<AppState> {
    return this.caretaker.checkBackups(input);
  }
}
