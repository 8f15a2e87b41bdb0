import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { EventEmitter } from 'node:events';
import { EVENTS, type Api, type ApiEvents, type EventName } from '../contract.js';
import type { DownloadSource } from '../control/controller.js';
import { dispatch } from '../control/core/dispatch.js';
import { CONTENT_SECURITY_POLICY } from '../csp.js';

export type BridgedApi = Api & EventEmitter<{ [E in EventName]: [ApiEvents[E]] }> & { openDownload(id: string): DownloadSource | null };

export interface BridgeOptions {
  api: BridgedApi;
  /** 0 picks a free port. */
  port: number;
  /** The access key (a random one when left out). */
  token?: string;
  /** The built renderer (index.html and its assets). */
  staticDir: string;
  onBug: (error: unknown) => void;
}

export interface Bridge {
  /** The address to open, with the access token in its fragment (which browsers never send). */
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  /** Replaces the access token at once: calls with the old one are refused from now on, and the event streams opened with it end. */
  setToken(token: string): void;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const HEARTBEAT_MS = 15_000;


const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

const UNAUTHORISED =
  'This page has no valid access key: open the GUI address again, as printed when headless mode started or kept in the file gui-address.txt in its settings folder (reloading the page forgets the key, and a new GUI address made in Settings ends the old one).';

const STATUS_OF: Record<string, number> = { 'unknown-method': 404, 'invalid-input': 400, internal: 500 };

function sameSecret(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const apiError = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Headless web mode: the GUI and the contract over HTTP on 127.0.0.1 only.
 * One POST route per method (`/api/<method>`, the input as the JSON body),
 * server-sent events at `/api/events`. The API needs a random token, sent
 * as `Authorization: Bearer` on every call: the GUI's address carries it
 * in its fragment, which browsers never send to any server, and the page
 * keeps it in memory only; `setToken` replaces it. There is no cookie: browsers scope cookies by
 * host, not port, so one would reach every other program on 127.0.0.1.
 * The GUI's own files are no secret and need no token. Requests from other
 * origins or other host names (DNS rebinding) are refused.
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  let token = options.token ?? randomBytes(32).toString('base64url');
  const root = resolve(options.staticDir);
  let origin = '';
  let host = '';
  const streams = new Set<ServerResponse>();

  const authorised = (req: IncomingMessage): boolean => sameSecret(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1], token);

  /** Another page (another port on 127.0.0.1 is another origin but the same site) must not drive the API. */
  const foreign = (req: IncomingMessage): boolean => {
    const from = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    return (from !== undefined && from !== origin) || (site !== undefined && site !== 'same-origin' && site !== 'none');
  };

  const serveFile = async (res: ServerResponse, path: string): Promise<void> => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return send(res, 400, 'Bad path');
    }
    const file = resolve(root, `.${decoded === '/' ? '/index.html' : decoded}`);
    const inside = relative(root, file);
    if (inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).some((part) => part.startsWith('.'))) return send(res, 404, 'Not found');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      return send(res, 404, path === '/' ? 'This build has no GUI yet (index.html is missing); the API answers at /api/<method>.' : 'Not found');
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size, 'Cache-Control': 'no-cache' });
    createReadStream(file).pipe(res);
  };

  const callMethod = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return send(res, 415, 'Send the input as application/json.');
    let input: unknown;
    try {
      const text = await readBody(req);
      input = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      return send(res, 400, JSON.stringify({ error: { code: 'invalid-input', message: 'The body is not JSON (or over 1 MiB).' } }), 'application/json');
    }
    const outcome = await dispatch(options.api, method, input, options.onBug);
    if (outcome.ok) return send(res, 200, JSON.stringify({ result: outcome.result ?? null }), 'application/json');
    send(res, STATUS_OF[outcome.error.code] ?? 422, JSON.stringify({ error: outcome.error }), 'application/json');
  };

  const openStream = async (res: ServerResponse): Promise<void> => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    streams.add(res);
    res.on('close', () => streams.delete(res));
    res.write(`event: state\ndata: ${JSON.stringify(await options.api.getState())}\n\n`);
  };

  /**
   * A download the page started (`startDownload`), fetched by the browser
   * itself so that it streams to the disk: a navigation cannot send the
   * token, so the download's own ID (128 random bits, handed only to the
   * page that asked, valid once and for a minute) lets it in instead.
   */
  const sendDownload = async (res: ServerResponse, id: string): Promise<void> => {
    const download = options.api.openDownload(id);
    if (!download) return send(res, 404, 'This download has already been fetched or has expired: start it again on the page.');
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(download.fileName)}`,
      'Cache-Control': 'no-store',
    });
    await download.send(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    if (req.headers.host !== host) return send(res, 421, 'Use the address printed at start (127.0.0.1).');
    // The raw path, not a URL resolved against the origin (which would take `//host/` for another host).
    const pathname = (req.url ?? '/').split('?')[0] as string;
    if (pathname.startsWith('/api/')) {
      if (!authorised(req)) return send(res, 401, apiError('unauthorised', UNAUTHORISED), 'application/json');
      if (foreign(req)) return send(res, 403, apiError('foreign', 'Requests from other pages are refused.'), 'application/json');
      if (pathname === '/api/events' && req.method === 'GET') return openStream(res);
      const method = /^\/api\/([A-Za-z][A-Za-z0-9]*)$/.exec(pathname)?.[1];
      if (method === undefined) return send(res, 404, apiError('unknown-method', 'There is no such method.'), 'application/json');
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return send(res, 405, 'Use POST.');
      }
      return callMethod(req, res, method);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed');
    const download = /^\/download\/([\w-]{16,64})$/.exec(pathname)?.[1];
    if (download !== undefined && req.method === 'GET') return foreign(req) ? send(res, 403, 'Requests from other pages are refused.') : sendDownload(res, download);
    return serveFile(res, pathname);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.onBug(error);
      if (!res.headersSent) send(res, 500, 'Internal error');
      else res.destroy();
    });
  });
  const forward = EVENTS.map((event) => {
    const listener = (payload: unknown) => {
      const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const stream of streams) stream.write(frame);
    };
    options.api.on(event, listener as never);
    return () => options.api.off(event, listener as never);
  });
  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.write(': still here\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  host = `127.0.0.1:${port}`;
  return {
    get url() {
      return `${origin}/#token=${token}`;
    },
    origin,
    get token() {
      return token;
    },
    setToken: (next: string) => {
      token = next;
      // Every open stream was let in with the old token: a page that has the new one opens its own again.
      for (const stream of streams) stream.end();
      streams.clear();
    },
    close: async () => {
      clearInterval(heartbeat);
      for (const stop of forward) stop();
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    },
  };
}
