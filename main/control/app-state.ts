import type { AppState, ComputerOverview, GuiAddress } from '../contract.js';
import type { Activity } from './activity/activity.js';
import type { Caretaker } from './caretaker/caretaker.js';
import type { Disks } from './disks/disks.js';
import type { Integrity } from './integrity/integrity.js';
import type { Notify } from './notify/notify.js';
import type { Offsite } from './offsite/offsite.js';
import type { Serving } from './serving/serving.js';
import type { Shared } from './core/shared.js';
import { UserError } from './core/errors.js';
import { describeStatus, isStale } from './core/status.js';
import type { Tls } from './tls/tls.js';
import { notificationsFor } from './tray-model.js';

/** At most one state event in this time: a backup's many uploads do not become many events. */
const COALESCE_MS = 200;

const toDate = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

/** A computer's figures from the disk in use, with what each disk of the rotation holds: its last backup is the newest on any disk. */
function withDisks(computer: Omit<ComputerOverview, 'disks'>, disks: ComputerOverview['disks'], staleDays: number, now: Date): ComputerOverview {
  const newest = [computer.lastBackupAt, ...disks.map((disk) => disk.lastBackupAt)].reduce<string | null>((a, b) => (b !== null && (a === null || b > a) ? b : a), null);
  if (newest === computer.lastBackupAt) return { ...computer, disks };
  return { ...computer, disks, lastBackupAt: newest, stale: isStale({ createdAt: new Date(computer.createdAt), lastBackupAt: toDate(newest) }, staleDays, now) };
}

/**
 * The whole state the GUI and the tray show, composed from every room, and
 * its publication: one event per burst of changes, none when nothing
 * changed, and the notifications its transitions call for.
 */
export class StateRoom {
  private last: AppState | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the last state was composed for publication (performance.now()). */
  private composedAt = -Infinity;
  private closed = false;

  constructor(
    private readonly shared: Shared,
    private readonly rooms: { disks: Disks; tls: Tls; serving: Serving; activity: Activity; integrity: Integrity; offsite: Offsite; caretaker: Caretaker; notify: Notify },
  ) {
    shared.on('changed', () => this.schedule());
    shared.on('tick', () => this.schedule());
  }

  async dismissNotice(input: { id: string }): Promise<AppState> {
    this.shared.dismissNotice(input.id);
    return this.compose();
  }

  /** Headless mode's GUI gets a new address; the desktop app has none to renew. */
  async newGuiAddress(): Promise<GuiAddress> {
    const { gui } = this.shared.options;
    if (!gui) throw new UserError('no-gui-address', 'Only headless mode has a GUI address: the desktop app’s window needs none.');
    // One at a time, like every change: the file and the key in use always agree.
    return { url: await this.shared.mutate(() => gui.renew()), file: gui.addressFile };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  async compose(): Promise<AppState> {
    const { shared, rooms } = this;
    const settings = shared.settings;
    const { supervisor } = shared;
    const now = new Date(shared.options.now?.() ?? Date.now());
    const phase = supervisor.phase;
    const disks = await rooms.disks.views();
    // Only a disk that is really there is looked at: a bare mount point would show empty repositories.
    const readable = disks.find((disk) => disk.current && disk.present && phase !== 'disk-missing');
    const computers = (await rooms.activity.computerOverviews(readable, now)).map((computer) => withDisks(computer, rooms.disks.backupsOf(computer.username), settings.staleDays, now));
    const storage = readable ? await rooms.disks.storageView(readable) : null;
    const certificate = await rooms.tls.view();
    const clientUrl = rooms.serving.clientUrl();
    const integrity = rooms.integrity.view();
    const offsite = rooms.offsite.view();
    const caretaker = rooms.caretaker.view();
    const view = describeStatus({
      phase,
      error: supervisor.problem,
      diskLabel: supervisor.disk?.label ?? shared.currentDisk()?.label,
      clientUrl,
      computers: computers.map((computer) => ({
        username: computer.username,
        displayName: computer.displayName,
        createdAt: new Date(computer.createdAt),
        lastBackupAt: toDate(computer.lastBackupAt),
      })),
      staleDays: settings.staleDays,
      disk: storage && { totalBytes: storage.totalBytes, freeBytes: storage.freeBytes },
      refusedForSpace: rooms.disks.full,
      certificateNotAfter: certificate.notAfter,
      damaged: integrity.awaitingRepair.map((repo) => ({
        repo: repo.repo,
        displayName: repo.displayName,
        unreadable: repo.findings.some((finding) => finding.damage === 'unreadable'),
      })),
      rotation: rooms.disks.reasons(),
      offsite: offsite.target && { problem: offsite.problem, lastCopyAt: toDate(offsite.lastCopyAt), warnAfterDays: offsite.target.warnAfterDays },
      failingChannels: rooms.notify.failing(),
      care: computers
        .filter((computer) => caretaker.keptPasswords.includes(computer.username))
        .map((computer) => {
          const care = caretaker.computers.find((candidate) => candidate.username === computer.username);
          const check = care?.lastCheck;
          const retention = care?.lastRetention;
          const runProblem =
            retention && !retention.ok
              ? `removing old backups did not work, ${retention.problem ?? 'restic stopped'}`
              : check?.outcome === 'failed'
                ? `the monthly check did not run, ${check.problem ?? 'restic stopped'}`
                : null;
          return { username: computer.username, displayName: computer.displayName, checkProblem: check?.outcome === 'damaged' ? check.problem : null, runProblem };
        }),
      now,
    });
    return {
      ...view,
      clientUrl,
      listening: rooms.serving.listening,
      setupComplete: settings.setupComplete,
      nativeFolderDialog: shared.options.askFolder !== undefined,
      desktop: shared.options.desktop === true,
      guiAddressFile: shared.options.gui?.addressFile ?? null,
      storage,
      disks,
      computers,
      maintenanceUser: settings.maintenanceUser,
      certificate: certificate.view,
      integrity,
      offsite,
      caretaker,
      notify: rooms.notify.view(),
      settings: {
        listenAddresses: settings.listenAddresses,
        port: settings.port,
        appendOnly: settings.appendOnly,
        staleDays: settings.staleDays,
        swapReminderDays: settings.swapReminderDays,
        integrityDays: settings.integrityDays,
        autostart: settings.autostart,
        notifications: settings.notifications,
        keepAwake: settings.keepAwake,
        quietHours: settings.quietHours,
        digest: settings.digest,
      },
      notices: shared.notices,
    };
  }

  /** The first change after a quiet spell is told at once; those that follow within COALESCE_MS wait for one state together. */
  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.composedAt + COALESCE_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.composedAt = performance.now();
      void this.compose().then(
        (state) => this.publish(state),
        () => undefined,
      );
    }, wait);
  }

  private publish(state: AppState): void {
    // A state composed as the app closed is not told to anyone.
    if (this.closed) return;
    this.rooms.notify.observe(state);
    const previous = this.last;
    this.last = state;
    if (previous && JSON.stringify(previous) === JSON.stringify(state)) return;
    this.shared.emitEvent('state', state);
    if (this.shared.settings.notifications) for (const notification of notificationsFor(previous, state)) this.shared.emitEvent('notification', notification);
  }
}
