import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AppState, SettingsPatch } from '../../contract.js';
import type { SetupHandler } from '../../../server/context.js';
import type { TlsOptions } from '../../../server/tls-files.js';
import type { UserPolicy } from '../../../server/user-policy.js';
import { UserError } from '../core/errors.js';
import { WILDCARDS, type Shared } from '../core/shared.js';
import type { DiskChoice, ServerConfig } from '../core/supervisor.js';

/** What serving needs from the other rooms, handed in by the controller. */
export interface ServingParts {
  /** What each login may do (computers). */
  users: () => Map<string, UserPolicy>;
  /** The certificate files to serve, made or renewed first (TLS). */
  prepareTls: () => Promise<TlsOptions | undefined>;
  /** Renews the server certificate if a name is new or its end is near (TLS). */
  renewCertificate: () => Promise<void>;
  /** Answers "Connect this computer" set-up requests (connect). */
  setup: SetupHandler;
  /** Readies a disk before it serves: the repositories it lacks laid out (disks). */
  prepareDisk: (disk: DiskChoice) => Promise<void>;
}

/**
 * The server's life: start, stop, the settings it runs with, the addresses
 * it listens on and the one computers use, and following the network when
 * the computer's addresses change.
 */
export class Serving {
  private networkSeen: string;

  constructor(
    private readonly shared: Shared,
    private readonly parts: ServingParts,
  ) {
    this.networkSeen = JSON.stringify(shared.lan());
    shared.on('tick', () => void this.tick());
  }

  private get settings() {
    return this.shared.settings;
  }

  /** Every address the server listens on. */
  get listening(): string[] {
    return this.shared.supervisor.listening;
  }

  startServer(): Promise<AppState> {
    return this.shared.mutate(async () => {
      await this.start();
      return this.shared.state();
    });
  }

  stopServer(): Promise<AppState> {
    return this.shared.mutate(async () => {
      this.settings.serving = false;
      await this.shared.save();
      await this.shared.supervisor.stop();
      return this.shared.state();
    });
  }

  updateSettings(patch: SettingsPatch): Promise<AppState> {
    return this.shared.mutate(async () => {
      if (Array.isArray(patch.listenAddresses)) this.checkOwnAddresses(patch.listenAddresses);
      this.shared.settings = { ...this.settings, ...patch };
      await this.shared.save();
      await this.shared.reconfigure();
      return this.shared.state();
    });
  }

  /** Re-checks the LAN addresses and the certificate now (the tick does this every few seconds). */
  refreshNetwork(): Promise<void> {
    return this.shared.mutate(() => this.followNetwork());
  }

  /** Serves with the current settings (and remembers to serve again at the next start). */
  async start(): Promise<void> {
    if (this.settings.currentDiskId === null) throw new UserError('no-folder', 'Choose the folder or disk for the backups first (Storage).');
    this.settings.serving = true;
    await this.shared.save();
    await this.shared.supervisor.start(await this.serverConfig());
  }

  async serverConfig(): Promise<ServerConfig> {
    const current = this.shared.currentDisk();
    const disks = [...(current ? [current] : []), ...this.settings.disks.filter((disk) => disk !== current)];
    return {
      disks: disks.map(({ id, label, folder }) => ({ id, label, folder })),
      htpasswdFile: this.shared.logins.file,
      tls: await this.parts.prepareTls(),
      appendOnly: this.settings.appendOnly,
      users: this.parts.users(),
      addresses: this.listenHosts(),
      port: this.settings.port,
      timeouts: this.shared.options.timeouts,
      setup: this.parts.setup,
      prepare: this.parts.prepareDisk,
    };
  }

  /** The address computers use while it serves; null otherwise. */
  clientUrl(): string | null {
    return ['serving', 'attention', 'disk-missing'].includes(this.shared.supervisor.phase) ? this.addressForComputers() : null;
  }

  /** The address computers use, served or not (their command lines carry it). */
  addressForComputers(): string {
    const hosts = this.listenHosts().flatMap((host) => (WILDCARDS.has(host) ? this.shared.lan() : [host]));
    const host = hosts.find((candidate) => !['127.0.0.1', '::1'].includes(candidate)) ?? hosts[0] ?? '127.0.0.1';
    const scheme = this.settings.tls === 'off' ? 'http' : 'https';
    return `${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${this.settings.port}/`;
  }

  private listenHosts(): string[] {
    return this.settings.listenAddresses === 'auto' ? [...this.shared.lan(), '127.0.0.1'] : this.settings.listenAddresses;
  }

  private checkOwnAddresses(addresses: string[]): void {
    const own = new Set([...Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address)), ...this.shared.lan()]);
    const foreign = addresses.filter((address) => !WILDCARDS.has(address) && !own.has(address));
    if (foreign.length > 0) {
      throw new UserError('unknown-address', `${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not an address of this computer. Choose among ${[...own].join(', ')}.`);
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.refreshNetwork();
    } catch (error) {
      this.shared.emit('note', (error as Error).message, 'error');
    }
  }

  /** A new LAN address gets a renewed certificate and is listened on; one that went is let go. */
  private async followNetwork(): Promise<void> {
    const seen = JSON.stringify(this.shared.lan());
    const changed = seen !== this.networkSeen;
    this.networkSeen = seen;
    if (this.shared.supervisor.phase !== 'stopped') await this.parts.renewCertificate();
    if (changed) await this.shared.reconfigure();
  }
}
