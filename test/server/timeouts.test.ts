import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, makeObject, post, run, send } from '../helpers/http.js';
import { openRaw, sleep } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/running-server.js';
import { tempFilesUnder } from '../helpers/temp-files.js';

const SHORT = { headersMs: 1000, idleMs: 1000, keepAliveMs: 2000 };


describe('timeouts', () => {
  it('cuts off a client that sends its headers byte by byte', async () => {
    const { port } = await startServer({ timeouts: SHORT });
    const raw = await openRaw(port);
    const request = 'GET /config HTTP/1.1\r\nHost: x\r\n' + 'X-Slow: ' + 'a'.repeat(200);
    let sent = 0;
    const dribble = setInterval(() => raw.socket.write(request[sent++ % request.length] as string), 50);
    const closedAfter = await raw.closed;
    clearInterval(dribble);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(5000);
  });

  it('cuts off a client that goes silent mid-upload, leaving no temp file', async () => {
    const { port, url, dataDir } = await startServer({ timeouts: SHORT });
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const { id, data } = makeObject(100_000);
    const raw = await openRaw(port);
    raw.socket.write(`POST /data/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`);
    raw.socket.write(data.subarray(0, 1000));
    const closedAfter = await raw.closed;
    expect(closedAfter).toBeLessThan(5000);
    await sleep(100);
    expect(tempFilesUnder(dataDir)).toEqual([]);
  });

  it('cuts off a silent client on a reused keep-alive connection too', async () => {
    const { port, url } = await startServer({ timeouts: SHORT });
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const { id, data } = makeObject(1000);
    const raw = await openRaw(port);
    raw.socket.write(`POST /keys/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`);
    raw.socket.write(data);
    await sleep(300);
    expect(raw.received()).toMatch(/^HTTP\/1.1 200/);
    raw.socket.write(`POST /keys/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`);
    raw.socket.write(data.subarray(0, 10));
    const closedAfter = await raw.closed;
    expect(closedAfter).toBeLessThan(5000);
  });

  it('lets a slow upload that keeps moving take much longer than any timeout', async () => {
    const { port, url } = await startServer({ timeouts: SHORT });
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const { id, data } = makeObject(200_000);
    const raw = await openRaw(port);
    raw.socket.write(`POST /data/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`);
    for (let offset = 0; offset < data.length; offset += 20_000) {
      raw.socket.write(data.subarray(offset, offset + 20_000));
      await sleep(400);
    }
    await sleep(200);
    expect(raw.received()).toMatch(/^HTTP\/1.1 200/);
    raw.socket.destroy();
  });

  it('keeps idle keep-alive connections open longer than restic reuses them for (over Node’s 5 s default)', { timeout: 20_000 }, async () => {
    const { port } = await startServer();
    const raw = await openRaw(port);
    raw.socket.write('POST /?create=true HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    await sleep(6000);
    expect(raw.socket.destroyed).toBe(false);
    raw.socket.write('HEAD /config HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(200);
    expect(raw.received().match(/HTTP\/1.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 404']);
    raw.socket.destroy();
  });
});

describe('close()', () => {
  it('stops accepting, lets an upload in flight finish with Connection: close, then resolves', async () => {
    const { port, url, server, dataDir } = await startServer();
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const { id, data } = makeObject(100_000);
    const raw = await openRaw(port);
    raw.socket.write(`POST /data/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`);
    raw.socket.write(data.subarray(0, 50_000));
    await sleep(100);
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await sleep(100);
    await expect(send(url, { method: 'HEAD', path: '/config' })).rejects.toThrow();
    expect(closed).toBe(false);
    raw.socket.write(data.subarray(50_000));
    await closing;
    await raw.closed;
    expect(raw.received()).toMatch(/^HTTP\/1.1 200/);
    expect(raw.received()).toMatch(/connection: close/i);
    expect(readdirSync(join(dataDir, 'data', id.slice(0, 2)))).toEqual([id]);
  });

  it('cuts what is still running after the drain bound', async () => {
    const { port, url, server } = await startServer({ timeouts: { drainMs: 500 } });
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const { id, data } = makeObject(100_000);
    const raw = await openRaw(port);
    raw.socket.write(`POST /data/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`);
    raw.socket.write(data.subarray(0, 10));
    await sleep(100);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await raw.closed;
  });
});
