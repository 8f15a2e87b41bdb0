import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { readDiskId, type DiskState } from '../../../server/disk-guard.js';
import type { SetupHandler } from '../../../server/context.js';
import type { RequestEvent } from '../../../server/events.js';
import { ResticServer, type Timeouts } from '../../../server/server.js';
import type { TlsOptions } from '../../../server/tls-files.js';
import type { UserPolicies } from '../../../server/user-policy.js';
import type { Phase } from './status.js';

export interface DiskChoice {
  id: string;
  label: string;
  folder: string;
}

/** Everything the server is started with; a change of `restartKey` needs a new server, the rest is applied live. */
export interface ServerConfig {
  /** Known disks, the preferred one first: whichever is plugged in is served. */
  disks: DiskChoice[];
  htpasswdFile: string;
  tls?: TlsOptions;
  appendOnly: boolean;
  users: UserPolicies;
  /** Addresses to listen on (each one a listener), all with the same port. */
  addresses: string[];
  port: number;
  timeouts?: Partial<Timeouts>;
  /** Answers "Connect this computer" set-up requests. */
  setup?: SetupHandler;
  /** Readies a disk before it serves (the repositories it lacks laid out); it never stops the disk from serving. */
  prepare?: (disk: DiskChoice) => Promise<void>;
}

const DISK_POLL_MS = 2000;

const restartKey = (config: ServerConfig): string =>
  JSON.stringify({
    disks: config.disks.map((disk) => [disk.id, disk.folder]),
    htpasswd: config.htpasswdFile,
    tls: config.tls ?? null,
    port: config.port,
    quotas: [...config.users].map(([user, policy]) => [user, policy.quotaBytes ?? null]),
  });

/** A listen failure in words that say what to do. */
export function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `Port ${port} is already used by another program (another backup server?). Stop that program, or choose another port for this server.`;
    case 'EACCES':
    case 'EPERM':
      return `Port ${port} needs administrator rights on this computer. Choose a port from 1024 up in Settings.`;
    case 'EADDRNOTAVAIL':
      return `The address ${host} does not belong to this computer (any more). Choose the addresses to listen on in Settings.`;
    default:
      return `Cannot listen on ${host} port ${port} (${error.code ?? error.message}).`;
  }
}

const hostOf = (address: string): string => (address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.slice(0, address.lastIndexOf(':')));

/**
 * Runs the REST server for the app: starts it on whichever known disk is
 * present, follows the disk guard (missing, back again), switches to the
 * other disk of a rotating pair when that one is plugged in, and turns
 * failures into a phase and a sentence.
 */
export class ServerSupervisor extends EventEmitter<{ change: []; requests: [RequestEvent[]]; warning: [string] }> {
  phase: Phase = 'stopped';
  problem: string | undefined;
  /** The disk served, or waited for while it is missing. */
  disk: DiskChoice | undefined;
  private server: ResticServer | undefined;
  private config: ServerConfig | undefined;
  private poll: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  get listening(): string[] {
    return this.server?.addresses() ?? [];
  }

  get current(): ResticServer | undefined {
    return this.server;
  }

  /** Starts (or restarts) with this configuration. */
  start(config: ServerConfig): Promise<void> {
    return this.serialise(async () => {
      await this.shutDown();
      this.config = config;
      await this.launch();
    });
  }

  /** Applies a new configuration: live where the server allows it, by a restart otherwise. */
  apply(config: ServerConfig): Promise<void> {
    return this.serialise(async () => {
      const previous = this.config;
      this.config = config;
      if (!previous || this.phase === 'stopped') return;
      if (!this.server || restartKey(previous) !== restartKey(config)) {
        await this.shutDown();
        await this.launch();
        return;
      }
      this.server.updatePolicy({ appendOnly: config.appendOnly, users: config.users });
      await this.listenOn(config.addresses);
      this.changed();
    });
  }

  stop(): Promise<void> {
    return this.serialise(async () => {
      await this.shutDown();
      this.config = undefined;
      this.setPhase('stopped');
    });
  }

  private serialise(task: () => Promise<void>): Promise<void> {
    const next = this.busy.then(task);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private setPhase(phase: Phase, problem?: string): void {
    this.phase = phase;
    this.problem = problem;
    this.changed();
  }

  private changed(): void {
    this.emit('change');
  }

  /** The first known disk whose folder carries its marker. */
  private async presentDisk(): Promise<DiskChoice | undefined> {
    for (const disk of this.config?.disks ?? []) if ((await readDiskId(disk.folder)) === disk.id) return disk;
    return undefined;
  }

  private async launch(): Promise<void> {
    const config = this.config;
    if (!config) return;
    this.setPhase('starting');
    const disk = await this.presentDisk();
    if (!disk) {
      this.disk = config.disks[0];
      this.setPhase(config.disks.length === 0 ? 'error' : 'disk-missing', config.disks.length === 0 ? 'no backup folder is chosen yet. Choose one in Storage.' : undefined);
      if (config.disks.length > 0) this.watchForDisk();
      return;
    }
    this.disk = disk;
    // Before the server exists: no computer's request is answered from a disk not ready yet.
    await config.prepare?.(disk).catch((error: Error) => this.emit('warning', `cannot ready “${disk.label}”: ${error.message}`));
    let server: ResticServer;
    try {
      server = await ResticServer.create({
        path: disk.folder,
        diskId: disk.id,
        htpasswdFile: config.htpasswdFile,
        privateRepos: true,
        appendOnly: config.appendOnly,
        users: config.users,
        tls: config.tls,
        timeouts: config.timeouts,
        setup: config.setup,
      });
    } catch (error) {
      this.setPhase('error', (error as Error).message);
      return;
    }
    this.server = server;
    server.on('warning', (message) => this.emit('warning', message));
    server.on('disk', (state) => this.onDisk(state));
    server.subscribe((batch) => {
      this.emit('requests', batch);
    });
    try {
      await this.listenOn(config.addresses, true);
    } catch (error) {
      await this.shutDown();
      this.setPhase('error', (error as Error).message);
      return;
    }
    if (server.diskState.ok) this.setPhase('serving');
    else this.onDisk(server.diskState);
  }

  /**
   * Listens on the addresses not listened on yet and stops the ones no longer
   * wanted. At start every failure is fatal; later (a LAN address that
   * appeared or vanished) an address that is not there is only reported.
   */
  private async listenOn(addresses: string[], atStart = false): Promise<void> {
    const server = this.server;
    const config = this.config;
    if (!server || !config) return;
    const wanted = new Set(addresses.map((host) => (isIP(host) === 6 ? `[${host}]:${config.port}` : `${host}:${config.port}`)));
    for (const address of server.addresses()) if (!wanted.has(address)) await server.stopListening(address);
    const have = new Set(server.addresses());
    for (const address of wanted) {
      if (have.has(address)) continue;
      const host = hostOf(address);
      try {
        await server.listen({ host, port: config.port });
      } catch (error) {
        const problem = listenProblem(error as NodeJS.ErrnoException, host, config.port);
        if (atStart || (error as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw new Error(problem);
        this.emit('warning', problem);
      }
    }
  }

  private onDisk(state: DiskState): void {
    if (state.ok) {
      this.stopWatching();
      this.setPhase('serving');
      return;
    }
    this.setPhase('disk-missing', state.reason);
    this.watchForDisk();
  }

  /** While the disk is away, looks for any known disk: the same one resumes by itself, another one is switched to. */
  private watchForDisk(): void {
    if (this.poll) return;
    this.poll = setInterval(() => {
      void this.serialise(async () => {
        if (this.phase !== 'disk-missing') return this.stopWatching();
        const disk = await this.presentDisk();
        if (!disk) return;
        if (this.server && disk.id === this.disk?.id) return; // its own guard will see it
        this.stopWatching();
        await this.shutDown();
        await this.launch();
      });
    }, DISK_POLL_MS);
    this.poll.unref();
  }

  private stopWatching(): void {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  private async shutDown(): Promise<void> {
    this.stopWatching();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.removeAllListeners();
      await server.close();
    }
  }
}
