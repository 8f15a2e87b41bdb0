import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections from one address (a household's computer keeps a handful). */
  perAddress: number;
  /** Open connections in all. */
  total: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { perAddress: 64, total: 512 };

const keyOf = (socket: Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;

/**
 * Caps open connections per client address and in all, so that one address
 * holding many idle connections cannot use up the server's file descriptors.
 * At a cap, an idle connection (no request in flight) is closed to make
 * room, the longest idle first; when none is idle, the new one is refused.
 */
export class ConnectionLimiter {
  /**
   * Every open connection by its client's address and port (the same for
   * the TCP socket and the TLS socket over it), with the requests in flight
   * on it; kept in order of last use.
   */
  private readonly open = new Map<string, { socket: Socket; inFlight: number }>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Applies the limits to a listener's connections. */
  watch(listener: HttpServer): void {
    listener.on('connection', (socket: Socket) => this.admit(socket));
    listener.on('request', (req, res) => {
      const key = keyOf(req.socket);
      this.touch(key, +1);
      res.once('close', () => this.touch(key, -1));
    });
  }

  private admit(socket: Socket): void {
    // A Unix socket has no address: its file's permissions guard it.
    const address = socket.remoteAddress;
    if (address === undefined) return;
    if ((this.perAddress.get(address) ?? 0) >= this.limits.perAddress && !this.closeIdle(address)) return void socket.destroy();
    if (this.open.size >= this.limits.total && !this.closeIdle(undefined)) return void socket.destroy();
    const key = keyOf(socket);
    this.open.set(key, { socket, inFlight: 0 });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => {
      this.open.delete(key);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }

  private touch(key: string, change: number): void {
    const entry = this.open.get(key);
    if (!entry) return;
    entry.inFlight += change;
    this.open.delete(key);
    this.open.set(key, entry);
  }

  /** Closes the longest idle connection (of one address, or of any); false when none is idle. */
  private closeIdle(address: string | undefined): boolean {
    for (const entry of this.open.values()) {
      if (entry.inFlight > 0 || (address !== undefined && entry.socket.remoteAddress !== address)) continue;
      // Never chosen twice: its 'close' event comes later.
      entry.inFlight = Number.POSITIVE_INFINITY;
      entry.socket.destroy();
      return true;
    }
    return false;
  }
}
