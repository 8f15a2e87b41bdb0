import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createApp } from './app.js';
import { Authenticator } from './auth.js';
import type { Deps, SetupHandler } from './context.js';
import { DiskGuard, type DiskState } from './disk-guard.js';
import type { RequestEvent, ServerEvents } from './events.js';
import { ConnectionLimiter, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limit.js';
import { createSyncer } from './fsync.js';
import { LinkRefusedError, linkSentence } from './links.js';
import { openLogTarget, writeLines } from './access-log.js';
import { Metrics } from './metrics.js';
import { Quota } from './quota.js';
import { Storage } from './storage.js';
import { Subscription } from './subscription.js';
import { loadTls, watchTls, type TlsOptions } from './tls-files.js';
import type { UserPolicies } from './user-policy.js';

/**
 * Timeouts, chosen on purpose (Node's defaults do not fit a backup server):
 * - headers must arrive within `headersMs`, so a client dribbling them byte by
 *   byte is cut off;
 * - a request with no traffic for `idleMs` (a silent client mid-upload, or one
 *   that stopped reading a download) is cut off, but there is no limit on a
 *   whole request: a 128 MiB pack over a slow link takes as long as it takes;
 * - idle keep-alive connections are kept `keepAliveMs`: restic's Go client
 *   reuses them for up to 90 s, and closing one under its feet fails a request;
 * - `close()` waits up to `drainMs` for requests in flight.
 */
export interface Timeouts {
  headersMs: number;
  idleMs: number;
  keepAliveMs: number;
  drainMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = {
  headersMs: 30_000,
  idleMs: 60_000,
  keepAliveMs: 120_000,
  drainMs: 30_000,
};

export interface ServerOptions {
  /** The data folder; it must exist. */
  path: string;
  /** No authentication at all (rest-server's --no-auth). */
  noAuth?: boolean;
  /** Users and their password hashes (default `<path>/.htpasswd`); reloaded when it changes. */
  htpasswdFile?: string;
  /** Take the user name from this header, set by an authenticating proxy, instead of Basic auth. */
  proxyAuthUsername?: string;
  /** Each user may only use repositories under a folder of their own name. */
  privateRepos?: boolean;
  /** Per-user append-only and maintenance rights. */
  users?: UserPolicies;
  appendOnly?: boolean;
  /** Apache combined log of every request: a file appended to, or `-` for standard output. */
  log?: string;
  /** Serve Prometheus metrics at /metrics; `noAuth` opens them to anyone (--prometheus-no-auth). */
  prometheus?: { noAuth: boolean };
  /** rest-server's --max-size: the most bytes all files of the data folder may hold. */
  maxSize?: number;
  /** Folders 0770 and files 0660 instead of 0700 and 0600, so the file system group can read the backups. */
  groupAccessibleRepos?: boolean;
  /** Serve HTTPS with this certificate and key; replaced while serving when the files change. */
  tls?: TlsOptions;
  /** Check each object's SHA-256 against its name (default true). */
  verifyUpload?: boolean;
  /** When set, the data folder must carry this disk id; otherwise a folder without one is adopted. */
  diskId?: string;
  timeouts?: Partial<Timeouts>;
  /** Caps of open connections, per client address and in all. */
  connections?: Partial<ConnectionLimits>;
  /** The app's answers to set-up requests (see SETUP_PREFIX). */
  setup?: SetupHandler;
}

export type ListenTarget = { host?: string; port: number } | { socketPath: string };

function printableAddress(listener: HttpServer): string {
  const address = listener.address() as AddressInfo | string | null;
  if (typeof address === 'string') return `unix:${address}`;
  if (address === null) return '';
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

/** The first byte of a TLS connection: a handshake record. */
const TLS_HANDSHAKE = 0x16;

function plainHttpAnswer(method: string): string {
  const body = 'This server speaks HTTPS: use https:// in the address.\n';
  const head = `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  return method === 'HEAD' ? head : head + body;
}

/**
 * A plain HTTP request to the HTTPS port gets a 400 that says to use
 * https:// (as Go's server does), instead of a closed connection that
 * restic reports as "EOF": the first bytes of a connection tell a TLS
 * handshake from a request line. Only a handshake is handed on to TLS (the
 * bytes read are put back first, and Node's TLS socket takes them).
 */
function answerPlainHttp(listener: HttpsServer, headersMs: number): HttpsServer {
  const startTls = listener.listeners('connection') as ((this: HttpsServer, socket: Socket) => void)[];
  listener.removeAllListeners('connection');
  listener.on('connection', (socket: Socket) => {
    // A client that sends nothing at all is cut off like one dribbling headers.
    socket.setTimeout(headersMs, () => socket.destroy());
    socket.once('readable', () => {
      const first = socket.read() as Buffer | null;
      if (first === null) return void socket.destroy();
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE) {
        socket.unshift(first);
        for (const start of startTls) start.call(listener, socket);
        return;
      }
      const method = /^([A-Z]+) /.exec(first.toString('latin1', 0, 16))?.[1];
      if (!method) return void socket.destroy();
      // The rest of the request is read and dropped, so the connection can close.
      socket.resume();
      socket.end(plainHttpAnswer(method));
    });
  });
  return listener;
}

/** How often the disk is looked at when no request asks, so state changes are reported. */
const DISK_POLL_MS = 2000;

/**
 * The restic REST server: no Electron, no GUI. Create it, `listen()`, observe
 * its `request`, `disk` and `warning` events, and `close()` it.
 */
export class ResticServer extends EventEmitter<ServerEvents> {
  /** One HTTP(S) server per address listened on, keyed by the printable address. */
  private readonly endpoints = new Map<string, HttpServer>();
  private readonly createListener: () => HttpServer;
  private readonly timeouts: Timeouts;
  private readonly limiter: ConnectionLimiter;
  private closing = false;
  private readonly poll: NodeJS.Timeout;

  private readonly stopWatchingTls: () => void;
  private readonly subscriptions = new Set<Subscription<RequestEvent>>();
  /** Links already told of: a client retries a refused request (restic 0.14 ten times), the warning is said once. */
  private readonly linksTold = new Set<string>();
  private log: { stream: NodeJS.WritableStream; subscription: Subscription<RequestEvent> } | undefined;

  private constructor(
    private readonly deps: Deps,
    timeouts: Timeouts,
    tls: { options: TlsOptions; context: SecureContextOptions } | undefined,
    connections: ConnectionLimits,
  ) {
    super();
    this.timeouts = timeouts;
    this.limiter = new ConnectionLimiter(connections);
    const app = createApp(deps, {
      onRequest: (event: RequestEvent) => {
        deps.metrics?.metrics.record(event);
        for (const subscription of this.subscriptions) subscription.push(event);
        this.emit('request', event);
      },
      onError: (error: unknown, ctx) => {
        if (error instanceof LinkRefusedError) return this.tellLink(error.link, `${ctx.method} ${ctx.originalUrl.split('?')[0]} was refused`);
        this.emit('warning', `request failed: ${(error as Error)?.message ?? String(error)}`);
      },
      closing: () => this.closing,
    });
    const handle = app.callback();
    const serverOptions = {
      headersTimeout: timeouts.headersMs,
      requestTimeout: 0,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      // Node applies the idle timeout to a connection's first request only;
      // later requests on a kept-alive connection would have none.
      req.socket.setTimeout(timeouts.idleMs);
      void handle(req, res);
    };
    if (tls) {
      let context = tls.context;
      this.createListener = () => answerPlainHttp(createHttpsServer({ ...serverOptions, ...context }, onRequest), timeouts.headersMs);
      // New connections get the new certificate; open ones keep theirs (rest-server needs a restart).
      this.stopWatchingTls = watchTls(
        tls.options,
        (next) => {
          context = next;
          for (const listener of this.endpoints.values()) (listener as HttpsServer).setSecureContext(next);
          this.emit('certificate', tls.options.certFile);
        },
        (message) => this.emit('warning', message),
      );
    } else {
      this.createListener = () => createHttpServer(serverOptions, onRequest);
      this.stopWatchingTls = () => undefined;
    }
    deps.guard.on('change', (state) => {
      // Counted while the disk was away, the sizes were those of the bare mount point.
      const measured = state.ok && deps.quota ? deps.quota.remeasure() : Promise.resolve();
      void measured
        .catch((error: Error) => this.emit('warning', `cannot measure the disk: ${error.message}`))
        .finally(() => this.emit('disk', state));
    });
    this.poll = setInterval(() => void deps.guard.refresh().catch(() => undefined), DISK_POLL_MS).unref();
  }

  static async create(options: ServerOptions): Promise<ResticServer> {
    const root = resolve(options.path);
    const warnings: string[] = [];
    let emitWarning: (message: string) => void = (message) => warnings.push(message);
    const syncer = createSyncer((message) => emitWarning(message));
    // rest-server: proxy authentication replaces Basic auth, and --no-auth disables both.
    // Both are checked before the marker is written: a start that fails writes nothing.
    await DiskGuard.checkFolder(root);
    const tls = options.tls && loadTls(options.tls);
    const proxyAuthUsername = options.noAuth ? undefined : options.proxyAuthUsername;
    const auth =
      options.noAuth || proxyAuthUsername !== undefined
        ? undefined
        : new Authenticator(resolve(options.htpasswdFile ?? join(root, '.htpasswd')), (message) => emitWarning(message));
    let guard: DiskGuard;
    try {
      guard = await DiskGuard.open(root, syncer, options.diskId);
    } catch (error) {
      auth?.close();
      throw error;
    }
    let server: ResticServer | undefined;
    const storage = new Storage(
      root,
      syncer,
      options.groupAccessibleRepos ? { dirMode: 0o770, fileMode: 0o660 } : { dirMode: 0o700, fileMode: 0o600 },
      // Listings happen only once the server exists.
      (path) => server?.tellLink(path, 'a listing left it out'),
    );
    if (guard.state.ok) await storage.removeTempFiles();
    const perUser = new Map<string, number>();
    for (const [user, own] of options.users ?? []) if (own.quotaBytes !== undefined) perUser.set(user, own.quotaBytes);
    const quota =
      options.maxSize !== undefined || perUser.size > 0 ? await Quota.open(root, { maxSize: options.maxSize, perUser }) : undefined;
    const policy = { appendOnly: options.appendOnly ?? false, privateRepos: options.privateRepos ?? false, users: options.users ?? new Map() };
    server = new ResticServer(
      {
        storage,
        guard,
        policy,
        verifyUpload: options.verifyUpload ?? true,
        quota,
        metrics: options.prometheus && { metrics: await Metrics.open(root), noAuth: options.prometheus.noAuth },
        auth,
        proxyAuthUsername,
        setup: options.setup,
      },
      { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      tls && { options: options.tls as TlsOptions, context: tls },
      {
        perAddress: options.connections?.perAddress ?? DEFAULT_CONNECTION_LIMITS.perAddress,
        total: options.connections?.total ?? DEFAULT_CONNECTION_LIMITS.total,
      },
    );
    if (options.log) server.startLog(options.log);
    emitWarning = (message) => server.emit('warning', message);
    // After the caller had the chance to subscribe.
    for (const message of warnings) setImmediate(() => server.emit('warning', message));
    return server;
  }

  /** Says once per link that the server met it and what it did instead of following it. */
  private tellLink(path: string, what: string): void {
    if (this.linksTold.has(path)) return;
    this.linksTold.add(path);
    this.emit('warning', `${linkSentence(path)} (${what}). Put what it points to in its place, or remove the link.`);
  }

  /**
   * Receives request events in batches without ever slowing requests: a
   * consumer that is slow (or whose promise never settles) only makes events
   * wait in a buffer of `capacity`, beyond which they are dropped and counted.
   */
  subscribe(consume: (batch: RequestEvent[]) => void | Promise<void>, capacity = 10_000): Subscription<RequestEvent> {
    const subscription = new Subscription(consume, capacity);
    this.subscriptions.add(subscription);
    return subscription;
  }

  unsubscribe(subscription: Subscription<RequestEvent>): void {
    subscription.close();
    this.subscriptions.delete(subscription);
  }

  /**
   * Re-reads the password file now (SIGHUP); it is also reloaded when it
   * changes. `whole`: the caller has just written it whole (atomically, as
   * the app does), so it applies at once even when shorter (a removed user).
   */
  reloadUsers(whole = false): void {
    this.deps.auth?.reload(whole);
  }

  private startLog(target: string): void {
    const stream = openLogTarget(target);
    stream.on('error', (error: Error) => this.emit('warning', `cannot write the log ${target}: ${error.message}`));
    let reported = 0;
    const subscription = this.subscribe(async (batch) => {
      const dropped = subscription.dropped - reported;
      reported += dropped;
      await writeLines(stream, batch, dropped);
    });
    this.log = { stream, subscription };
  }

  /** Bytes counted against the size limits; undefined when none is set. */
  quotaUsage(): { total: number; perFolder: ReadonlyMap<string, number> } | undefined {
    return this.deps.quota?.usage();
  }

  get diskState(): DiskState {
    return this.deps.guard.state;
  }

  get dataPath(): string {
    return this.deps.storage.root;
  }

  /**
   * Starts listening on one more address (the server may listen on several,
   * e.g. each LAN address and localhost); resolves with it in a printable form.
   */
  listen(target: ListenTarget): Promise<string> {
    if (this.closing) return Promise.reject(new Error('the server is closed'));
    const listener = this.createListener();
    listener.timeout = this.timeouts.idleMs;
    this.limiter.watch(listener);
    return new Promise((resolvePromise, reject) => {
      const onError = (error: Error) => reject(error);
      listener.once('error', onError);
      const done = () => {
        listener.off('error', onError);
        const address = printableAddress(listener);
        this.endpoints.set(address, listener);
        resolvePromise(address);
      };
      if ('socketPath' in target) listener.listen(target.socketPath, done);
      else listener.listen(target.port, target.host, done);
    });
  }

  /** The addresses listened on, as `listen()` printed them. */
  addresses(): string[] {
    return [...this.endpoints.keys()];
  }

  /** `host:port` (IPv6 in brackets) or `unix:/path` of the first address listened on. */
  address(): string | undefined {
    return this.addresses()[0];
  }

  /** The port of the first address listened on, when it is TCP. */
  get port(): number | undefined {
    const first = this.endpoints.values().next().value;
    const address = first?.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  }

  /** Stops listening on one address (requests in flight there finish); the others go on. */
  async stopListening(address: string): Promise<void> {
    const listener = this.endpoints.get(address);
    if (!listener) return;
    this.endpoints.delete(address);
    await this.drain([listener]);
  }

  /**
   * Replaces the append-only and per-user rights while serving; requests that
   * start afterwards follow them. (Size limits need a new server.)
   */
  updatePolicy(policy: { appendOnly: boolean; users: UserPolicies }): void {
    this.deps.policy = { ...this.deps.policy, ...policy };
  }

  /**
   * Stops accepting connections, lets requests in flight finish (answers then
   * carry `Connection: close`) for up to `drainMs`, then cuts what is left.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.poll);
    this.deps.auth?.close();
    this.stopWatchingTls();
    const listeners = [...this.endpoints.values()];
    this.endpoints.clear();
    await this.drain(listeners);
    await this.closeLog();
  }

  private async drain(listeners: HttpServer[]): Promise<void> {
    const closed = Promise.all(listeners.map((listener) => new Promise<void>((resolvePromise) => listener.close(() => resolvePromise()))));
    const closeIdle = () => {
      for (const listener of listeners) listener.closeIdleConnections();
    };
    closeIdle();
    const idleCheck = setInterval(closeIdle, 100);
    const deadline = setTimeout(() => {
      for (const listener of listeners) listener.closeAllConnections();
    }, this.timeouts.drainMs);
    try {
      await closed;
    } finally {
      clearInterval(idleCheck);
      clearTimeout(deadline);
    }
  }

  /** Lets the last log lines be written, then closes a log file (not standard output). */
  private async closeLog(): Promise<void> {
    if (!this.log) return;
    const { stream, subscription } = this.log;
    await subscription.settled(2000);
    this.unsubscribe(subscription);
    if (stream !== process.stdout) await new Promise<void>((resolveEnd) => stream.end(() => resolveEnd()));
  }
}
