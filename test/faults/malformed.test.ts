import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, makeObject, post, run } from '../helpers/http.js';
import { seeded } from '../helpers/random.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tempFilesUnder } from '../helpers/temp-files.js';

/** Every file under a folder with its content hash and modification time. */
function fingerprint(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = statSync(path);
    out[path] = entry.isFile() ? `${createHash('sha256').update(readFileSync(path)).digest('hex')} ${info.mtimeMs}` : `dir ${info.mtimeMs}`;
  }
  return out;
}

/** Sends raw bytes on a fresh connection; resolves with the status code answered (0: closed without an answer). */
function exchange(port: number, request: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0));
    });
    socket.end(request);
  });
}

const METHODS = ['GET', 'HEAD', 'POST', 'DELETE', 'PUT', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'get', 'G ET', ''];
const SEGMENTS = [
  '', '.', '..', '%2e', '%2e%2e', '%2E%2e', '.%2e', '%2f', '%2F', '%5c', '\\', '..%2f', '..%5c', '%00', '%', '%zz', '%c0%ae%c0%ae',
  'NUL', 'con', 'COM1', 'COM1.txt', 'aux', 'lpt9', 'r', 'canary', 'data', 'keys', 'locks', 'snapshots', 'index', 'config', '.htpasswd',
  '.restic-tray-server-disk', '.rts-tmp-0123456789abcdef', 'é', '%C3%A9', '~', '..;', 'a:b', 'x'.repeat(300), 'y'.repeat(5000), '*', '?create=true',
];
const HEADERS = [
  'Range: bytes=abc', 'Range: bytes=5-2', 'Range: bytes=-0', 'Range: bytes=0-,0-', 'Range: bytes=99999999999999999999-', 'Range: items=0-1',
  'Content-Length: -1', 'Content-Length: abc', 'Content-Length: 1e3', 'Content-Length: 99999999999999999999', 'Content-Length: 5\r\nContent-Length: 6',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked\r\nContent-Length: 4',
  'Accept: application/vnd.x.restic.rest.v2', 'Accept: application/vnd.x.restic.rest.v2\r\nAccept: */*', 'Authorization: Basic !!!',
  'Authorization: Basic ' + Buffer.from('a:b').toString('base64'), 'Host: ', 'Expect: 100-continue', `X-Huge: ${'h'.repeat(20_000)}`, 'Bad Header Line',
  'Connection: keep-alive, close, upgrade', 'Upgrade: websocket',
];

describe('malformed requests', () => {
  it('a fuzz run never crashes the server, never answers 5xx, and never touches anything outside the data folder', { timeout: 900_000 }, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const parent = tempDir('rts-fuzz-');
    const data = join(parent, 'data');
    const canary = join(parent, 'canary');
    mkdirSync(data);
    mkdirSync(join(canary, 'keys'), { recursive: true });
    writeFileSync(join(canary, 'config'), 'canary config');
    writeFileSync(join(canary, 'keys', 'k'), randomBytes(64));
    const { url, port } = await startServer({ path: data });
    const stored = makeObject(5000);
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: post(`/r/data/${stored.id}`, stored.data), want: [code(200)] },
    ]);
    const before = fingerprint(canary);
    const parentBefore = readdirSync(parent).sort();
    const ids = [stored.id, makeObject(10).id, stored.id.slice(0, 63), `${stored.id}0`];

    // `npm run stress` runs this with FAULT_SCALE=10.
    const inputs = 2000 * Number(process.env.FAULT_SCALE ?? 1);
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    const one = async () => {
      const depth = random.int(5);
      const segments = Array.from({ length: depth }, () => (random.next() < 0.15 ? random.pick(ids) : random.pick(SEGMENTS)));
      const path = `/${segments.join('/')}${random.next() < 0.3 ? '/' : ''}`;
      const headers = Array.from({ length: random.int(4) }, () => random.pick(HEADERS));
      const body = random.next() < 0.4 ? randomBytes(random.int(70_000)) : Buffer.alloc(0);
      const lengthHeader = headers.some((header) => /Content-Length|Transfer-Encoding/i.test(header)) ? [] : [`Content-Length: ${body.length}`];
      const head = `${random.pick(METHODS)} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${[...headers, ...lengthHeader].join('\r\n')}\r\n\r\n`;
      const status = await exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), body]));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) fiveHundreds.push(head.slice(0, 300));
    };
    for (let done = 0; done < inputs; done += 8) await Promise.all(Array.from({ length: 8 }, one));

    console.log(`fuzz seed ${seed}: ${inputs} inputs, answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(fiveHundreds).toEqual([]);
    expect(fingerprint(canary)).toEqual(before);
    expect(readdirSync(parent).sort()).toEqual(parentBefore);
    await expect.poll(() => tempFilesUnder(data)).toEqual([]);
    await run(url, [{ req: { method: 'GET', path: `/r/data/${stored.id}` }, want: [code(200)] }]);
  });
});
