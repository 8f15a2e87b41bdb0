import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Api, ApiEvents, EventName } from '../contract.js';
import { Activity } from './activity/activity.js';
import { StateRoom } from './app-state.js';
import { Caretaker } from './caretaker/caretaker.js';
import { Computers } from './computers/computers.js';
import { Connect } from './connect/connect.js';
import { Disks } from './disks/disks.js';
import { Integrity } from './integrity/integrity.js';
import type { Keychain } from './core/keychain.js';
import { Logins } from './core/logins.js';
import { Notify } from './notify/notify.js';
import { Offsite } from './offsite/offsite.js';
import { Restore, type DownloadSource } from './restore/restore.js';
import { Serving } from './serving/serving.js';
import { SettingsStore, type Settings } from './core/settings.js';
import { Shared, type ControllerOptions } from './core/shared.js';
import { Tls } from './tls/tls.js';

export { CA_FILE_NAME, type ControllerOptions } from './core/shared.js';
export type { Keychain } from './core/keychain.js';
export type { DownloadSource } from './restore/restore.js';
export { MAINTENANCE_USER } from './core/logins.js';

const HTPASSWD_FILE = 'htpasswd';

/** The system keychain comes from the desktop app; without it kept passwords are locked by a key file. */
export type OpenOptions = ControllerOptions & { keychain?: Keychain };

type Events = { [E in EventName]: [ApiEvents[E]] };

/** The contract's methods, set on each controller from `contract()`. */
export interface Controller extends Api {}

/**
 * The app's brain: every decision the desktop app makes, as plain Node. The
 * Electron shell and the headless web mode only call these methods (the
 * contract) and pass on its events. It holds no state and no logic of its
 * own: each method forwards to the room that owns it (see
 * docs/architecture.md).
 */
export class Controller extends EventEmitter<Events> {
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
  private readonly notify: Notify;
  private readonly restore: Restore;
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
    this.computers = new Computers(
      this.shared,
      () => this.serving.addressForComputers(),
      () => this.offsite.copyLocation(),
      (computer) => this.caretaker.forgetRemoved(computer),
    );
    this.serving = new Serving(this.shared, {
      setup: (request) => this.connect.answer(request),
      users: () => this.computers.userPolicies(),
      prepareTls: () => this.tls.prepare(),
      renewCertificate: () => this.tls.renewIfNeeded(),
      prepareDisk: (disk) => this.disks.prepareDisk(disk),
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
      keepPassword: async (username, password) => void (await this.caretaker.keepPassword({ username, password })),
      allowDeleting: (username, until) => this.computers.allowDeleting(username, until),
      repaired: (username) => this.integrity.markRepaired({ repo: username }),
      keptPassword: (username) => this.caretaker.keptPassword(username),
      readBackups: (username, args, purpose) => this.caretaker.runFor(username, args, purpose, true),
    });
    this.caretaker = new Caretaker(this.shared, options.keychain, {
      activityOf: (username) => this.activity.activityOf(username),
      copying: () => this.offsite.view().running !== null,
      spaceFreed: (diskId, bytes) => void this.disks.spaceFreed(diskId, bytes),
    });
    this.notify = new Notify(this.shared, options.keychain);
    this.state = new StateRoom(this.shared, { disks: this.disks, tls: this.tls, serving: this.serving, activity: this.activity, integrity: this.integrity, offsite: this.offsite, caretaker: this.caretaker, notify: this.notify });
    this.restore = new Restore(this.shared, {
      run: (username, args, purpose, json) => this.caretaker.runFor(username, args, purpose, json),
      stream: (username, args, purpose, background) => this.caretaker.streamFor(username, args, purpose, background),
      save: (username, args, purpose, fd) => this.caretaker.saveFor(username, args, purpose, fd),
      keptPassword: (username) => this.caretaker.keptPassword(username),
      fromCopy: async (username) => (await this.computers.commandLines({ username, os: 'linux', resticVersion: 'before-0.17' })).fromCopy,
    });
    Object.assign(this, this.contract());
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
    await controller.notify.open();
    if (settings.serving && settings.currentDiskId !== null) {
      await controller.serving.start().catch((error: Error) => controller.shared.addNotice(error.message));
    }
    return controller;
  }

  /** Stops the server (uploads in flight may finish) and the timers; the settings stay as they are. */
  async close(): Promise<void> {
    this.state.close();
    await this.notify.close();
    await this.integrity.close();
    await this.offsite.close();
    await this.restore.close();
    await this.caretaker.close();
    await this.shared.close();
  }

  /** The contract's methods, each forwarded to the room that owns it. */
  private contract(): Api {
    return {
      // The state and the server's life.
      getState: () => this.state.compose(),
      dismissNotice: (input) => this.state.dismissNotice(input),
      startServer: () => this.serving.startServer(),
      stopServer: () => this.serving.stopServer(),
      updateSettings: (patch) => this.serving.updateSettings(patch),
      newGuiAddress: () => this.state.newGuiAddress(),
      // Disks and folders.
      listDrives: () => this.disks.listDrives(),
      browseFolder: (input) => this.disks.browseFolder(input),
      createFolder: (input) => this.disks.createFolder(input),
      pickFolder: () => this.disks.pickFolder(),
      chooseFolder: (input) => this.disks.chooseFolder(input),
      forgetDisk: (input) => this.disks.forgetDisk(input),
      renameDisk: (input) => this.disks.renameDisk(input),
      ejectDisk: () => this.disks.ejectDisk(),
      // Computers and logins.
      addComputer: (input) => this.computers.add(input),
      removeComputer: (input) => this.computers.remove(input),
      resetPassword: (input) => this.computers.resetPassword(input),
      renameComputer: (input) => this.computers.rename(input),
      updateComputer: (input) => this.computers.update(input),
      createMaintenanceLogin: () => this.computers.createMaintenanceLogin(),
      removeMaintenanceLogin: () => this.computers.removeMaintenanceLogin(),
      commandLines: (input) => this.computers.commandLines(input),
      // Certificates.
      setTls: (input) => this.tls.setTls(input),
      caCertificate: () => this.tls.caCertificate(),
      regenerateCertificates: (input) => this.tls.regenerateCertificates(input),
      importCertificate: (input) => this.tls.importCertificate(input),
      useHouseholdCertificate: () => this.tls.useHouseholdCertificate(),
      // Activity.
      recentRequests: (input) => this.activity.recentRequests(input),
      recentSummaries: () => this.activity.recentSummaries(),
      // Integrity checks of the backup disk.
      checkIntegrity: () => this.integrity.checkIntegrity(),
      markRepaired: (input) => this.integrity.markRepaired(input),
      // The offsite copy.
      setOffsite: (input) => this.offsite.setOffsite(input),
      sftpHostKey: (input) => this.offsite.sftpHostKey(input),
      setOffsiteSftp: (input) => this.offsite.setOffsiteSftp(input),
      setOffsiteS3: (input) => this.offsite.setOffsiteS3(input),
      removeOffsite: () => this.offsite.removeOffsite(),
      copyOffsiteNow: () => this.offsite.copyOffsiteNow(),
      rebuildFromCopy: () => this.offsite.rebuildFromCopy(),
      // Connecting a computer with one line, or a file.
      connectComputer: (input) => this.connect.connectComputer(input),
      setupFile: (input) => this.connect.setupFile(input),
      repairLine: (input) => this.connect.repairLine(input),
      newLaptopLine: (input) => this.connect.newLaptopLine(input),
      // The desktop looking after the backups: restic here, the kept passwords.
      setResticPath: (input) => this.caretaker.setResticPath(input),
      keepPassword: (input) => this.caretaker.keepPassword(input),
      showPassword: (input) => this.caretaker.showPassword(input),
      forgetPassword: (input) => this.caretaker.forgetPassword(input),
      previewRetention: (input) => this.caretaker.previewRetention(input),
      setRetentionPolicy: (input) => this.caretaker.setRetentionPolicy(input),
      runRetention: (input) => this.caretaker.runRetention(input),
      checkBackups: (input) => this.caretaker.checkBackups(input),
      // Messages to the family's admin.
      saveChannel: (input) => this.notify.saveChannel(input),
      removeChannel: (input) => this.notify.removeChannel(input),
      testChannel: (input) => this.notify.testChannel(input),
      // Getting files back: snapshots, folders, search, downloads, restores, the emergency sheet.
      listSnapshots: (input) => this.restore.listSnapshots(input),
      browseSnapshot: (input) => this.restore.browseSnapshot(input),
      searchBackups: (input) => this.restore.searchBackups(input),
      startDownload: (input) => this.restore.startDownload(input),
      restoreFolder: (input) => this.restore.restoreFolder(input),
      transfer: (input) => this.restore.transfer(input),
      cancelTransfer: (input) => this.restore.cancelTransfer(input),
      emergencySheet: () => this.restore.emergencySheet(),
    };
  }

  /** Not in the contract: the desktop app asks again for the network's addresses when the system says they changed. */
  refreshNetwork(): Promise<void> {
    return this.serving.refreshNetwork();
  }
  /** Not in the contract: the headless bridge sends a waiting download to the browser that fetches it. */
  openDownload(id: string): DownloadSource | null {
    return this.restore.openDownload(id);
  }
}
