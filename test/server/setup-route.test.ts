import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SetupRequest } from '../../server/context.js';
import { openRaw } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';

const CODE = 'k7m2p9q4r8s3t6v5w2x9';

/** Sends one request line as written, on a bare connection, and returns the server's whole answer. */
async function rawRequest(port: number, target: string): Promise<string> {
  const raw = await openRaw(port);
  raw.socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  await raw.closed;
  return raw.received();
}

describe('the set-up route /.connect/ (the app hands its set-up scripts out there, before authentication)', () => {
  it('a request target in absolute form is refused with 400 before any route reads it, and its set-up code reaches neither the request events nor the access log', async () => {
    const log = join(tempDir(), 'access.log');
    const asked: SetupRequest[] = [];
    const { port, events, server } = await startServer({
      log,
      setup: async (request) => {
        asked.push(request);
        return { status: 200, type: 'text/plain', body: 'echo set up\n' };
      },
    });

    const absolute = await rawRequest(port, `https://127.0.0.1:${port}/.connect/${CODE}/sh`);
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
    expect(absolute).toContain('the request target must be a path beginning with /, not a full address');
    // A spelling Koa's parsed path reads as /.connect/<code>/sh, while the raw target does not begin with the prefix.
    await rawRequest(port, `/.connect\\${CODE}\\sh#`);
    expect(asked).toEqual([]);

    // The ordinary form still reaches the route, its code hidden in the log.
    expect(await rawRequest(port, `/.connect/${CODE}/sh?again=1`)).toMatch(/^HTTP\/1\.1 200 [^]*echo set up\n$/);
    expect(asked.map((request) => request.path)).toEqual([`${CODE}/sh`]);

    await server.close();
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('"GET … HTTP/1.1" 400');
    expect(lines[2]).toContain('"GET /.connect/… HTTP/1.1" 200');
    expect(events.map((event) => [event.url, event.status])).toEqual([
      ['…', 400],
      [`/.connect\\${CODE}\\sh#`, expect.any(Number)],
      ['/.connect/…', 200],
    ]);
    // Only the backslash spelling, which never reached the route, shows as it was sent.
    expect(lines.filter((line) => line.includes(CODE))).toEqual([lines[1]]);
    expect(events.filter((event) => JSON.stringify(event).includes(CODE))).toEqual([events[1]]);
  });

  it('a set-up script hands back a few words with POST (the body reaches the app, not the log); more than 4096 bytes is refused with 413; other methods get 405', async () => {
    const asked: SetupRequest[] = [];
    const { url, events } = await startServer({
      setup: async (request) => {
        asked.push(request);
        return { status: 200, type: 'text/plain', body: 'kept' };
      },
    });
    const sent = await fetch(`${url}/.connect/${CODE}/keep`, { method: 'POST', body: 'a family secret' });
    expect([sent.status, await sent.text()]).toEqual([200, 'kept']);
    expect(asked.map((request) => [request.method, request.path, request.body])).toEqual([['POST', `${CODE}/keep`, 'a family secret']]);
    expect(JSON.stringify(events)).not.toContain('a family secret');

    const large = await fetch(`${url}/.connect/${CODE}/keep`, { method: 'POST', body: 'x'.repeat(4097) });
    expect(large.status).toBe(413);
    const put = await fetch(`${url}/.connect/${CODE}/keep`, { method: 'PUT', body: 'x' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, POST']);
    expect(asked).toHaveLength(1);
  });
});
