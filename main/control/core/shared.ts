import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { ApiEvents, AppState, EventName, Notice } from '../../contract.js';
import type { Timeouts } from '../../../server/server.js';
import type { Logins } from './logins.js';
import { lanAddresses } from './network.js';
import type { ComputerRecord, DiskRecord, Settings, SettingsStore } from './settings.js';
import { ServerSupervisor, type ServerConfig } from './supervisor.js';

/** The file name computers save the certificate they trust under. */
export const CA_FILE_NAME = 'restic-tray-server-ca.pem';
/** Listen addresses that mean "every address of this computer". */
export const WILDCARDS = new Set(['0.0.0.0', '::']);

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
  /** The system's save dialog for a download (the desktop app): the file to write, or null when cancelled; headless mode has none and the browser downloads instead. */
  askSaveFile?: (fileName: string) => Promise<string | null>;
  /** Run by the desktop app, which shows the tray and notifications and starts with the computer. */
  desktop?: boolean;
  /** Headless mode's GUI address (the desktop app has none): the file that keeps it, and a new one (its new access key ends the old). */
  gui?: { addressFile: string; renew(): Promise<string> };
  /** Server timeouts (tests shorten the drain). */
  timeouts?: Partial<Timeouts>;
  /** The restic program bundled with the desktop app (in its resources); used unless Settings name another. */
  bundledRestic?: string;
  /** The time, in milliseconds; tests move it on to play days passing (the offsite copy's grace period). */
  now?: () => number;
}

/** Hands one of the contract's events to the GUI. */
export type EmitEvent = <E extends EventName>(event: E, payload: ApiEvents[E]) => void;

interface SharedEvents {
  /** Something the state shows changed: the state is composed and published soon. */
  changed: [];
  /** Every few seconds: a time to look at the network, the certificate and silent restic runs. */
  tick: [];
  /** A line for the live log's summary that no request made. */
  note: [message: string, severity: 'info' | 'warning' | 'error'];
}

/**
 * What the rooms of the app's brain share, and nothing else: the settings and
 * their store, the logins file, the running server, the one queue that
 * serialises changes, the server following a change (`reconfigure`), notices,
 * and the signals that the state changed. Each room gets this object; rooms
 * never reach into each other.
 */
export class Shared extends EventEmitter<SharedEvents> {
  readonly supervisor = new ServerSupervisor();
  private readonly noticeList: Notice[] = [];
  private noticeCount = 0;
  private mutating: Promise<unknown> = Promise.resolve();
  private readonly ticker: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly options: ControllerOptions,
    readonly store: SettingsStore,
    /** Replaced as a whole by a settings change: read it here each time, never keep it. */
    public settings: Settings,
    readonly logins: Logins,
    readonly emitEvent: EmitEvent,
    private readonly rooms: {
      /** The server's configuration for the current settings (the serving room makes it). */
      serverConfig: () => Promise<ServerConfig>;
      /** The whole state (the state room composes it). */
      composeState: () => Promise<AppState>;
    },
  ) {
    super();
    this.ticker = setInterval(() => this.emit('tick'), options.tickMs ?? 10_000);
    this.ticker.unref();
  }

  /** One change at a time: a second click waits for the first. */
  mutate<T>(task: () => Promise<T>): Promise<T> {
    const next = this.mutating.then(task);
    this.mutating = next.catch(() => undefined);
    void next.then(
      () => this.changed(),
      () => undefined,
    );
    return next;
  }

  save(): Promise<void> {
    return this.store.save(this.settings);
  }

  /** Saves after a change the server made (not the user): a failure becomes a notice. */
  saveInBackground(): void {
    this.save().catch((error: Error) => this.addNotice(`Cannot save the settings in ${this.store.file} (${error.message}). Check that the disk is not full.`));
  }

  /** After a settings change: the running server follows (live, or by a restart). */
  async reconfigure(): Promise<void> {
    if (this.supervisor.phase === 'stopped' || !this.settings.serving) return;
    await this.supervisor.apply(await this.rooms.serverConfig());
  }

  /** The state as it is now: what every change answers with. */
  state(): Promise<AppState> {
    return this.rooms.composeState();
  }

  changed(): void {
    if (!this.closed) this.emit('changed');
  }

  get notices(): Notice[] {
    return [...this.noticeList];
  }

  addNotice(message: string): void {
    if (this.noticeList.some((notice) => notice.message === message)) return;
    this.noticeList.push({ id: `notice-${++this.noticeCount}`, message });
    this.changed();
  }

  dismissNotice(id: string): void {
    const index = this.noticeList.findIndex((notice) => notice.id === id);
    if (index >= 0) this.noticeList.splice(index, 1);
  }

  hostName(): string {
    return this.options.hostName ?? hostname();
  }

  lan(): string[] {
    return (this.options.lanAddresses ?? lanAddresses)();
  }

  currentDisk(): DiskRecord | undefined {
    return this.settings.disks.find((disk) => disk.id === this.settings.currentDiskId);
  }

  computer(user: string | null): ComputerRecord | undefined {
    return this.settings.computers.find((computer) => computer.username === user);
  }

  /** Stops the server (uploads in flight may finish) and the timer; the settings stay as they are. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ticker);
    await this.supervisor.stop();
    await this.store.close();
  }
}
