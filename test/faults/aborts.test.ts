import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { code, makeObject, post, run } from '../helpers/http.js';
import { openDescriptors } from '../helpers/open-files.js';
import { seeded } from '../helpers/random.js';
import { startServer } from '../helpers/running-server.js';
import { tempFilesUnder } from '../helpers/temp-files.js';

/** Open files and sockets (not the pipes and event descriptors of a worker that starts during the test). */
const openFds = (): number => openDescriptors().filter((target) => target.startsWith('/') || target.startsWith('socket:')).length;

/** Sends `head` and then `bytes` of a body, or reads `bytes` of an answer, then resets the connection. */
function abortAfter(port: number, head: string, send: Buffer, readBytes: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = 0;
    const cut = () => socket.resetAndDestroy();
    // An answer shorter than `readBytes` (a range near the end) is cut when it stops coming.
    const deadline = setTimeout(cut, 1000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve();
    });
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (readBytes > 0 && received >= readBytes) cut();
    });
    socket.on('connect', () => {
      socket.write(head);
      if (send.length > 0) socket.write(send, () => setTimeout(cut, 5));
      else if (readBytes === 0) setTimeout(cut, 5);
    });
  });
}

describe('clients that go away', () => {
  it.runIf(process.platform === 'linux')('resets at random points of uploads and downloads leave no temp file and no open file, and the server goes on', { timeout: 900_000 }, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const { url, port, dataDir } = await startServer();
    const big = makeObject(8 << 20);
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: post(`/r/data/${big.id}`, big.data), want: [code(200)] },
      { req: { method: 'GET', path: `/r/data/${big.id}` }, want: [code(200)] },
    ]);
    const baseline = openFds();
    // `npm run stress` runs this with FAULT_SCALE=10.
    const rounds = 150 * Number(process.env.FAULT_SCALE ?? 1);
    for (let round = 0; round < rounds; round += 5) {
      await Promise.all(
        Array.from({ length: 5 }, () => {
          if (random.next() < 0.5) {
            const size = 1 + random.int(4 << 20);
            const id = makeObject(1).id;
            const head = `POST /r/data/${id} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`;
            return abortAfter(port, head, randomBytes(random.int(size)), 0);
          }
          const range = random.next() < 0.3 ? `Range: bytes=${random.int(8 << 20)}-\r\n` : '';
          return abortAfter(port, `GET /r/data/${big.id} HTTP/1.1\r\nHost: x\r\n${range}\r\n`, Buffer.alloc(0), 1 + random.int(6 << 20));
        }),
      );
    }
    console.log(`abort seed ${seed}: ${rounds} connections reset; open files ${baseline} before`);
    await expect.poll(() => tempFilesUnder(dataDir), { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => openFds(), { timeout: 10_000 }).toBeLessThanOrEqual(baseline);
    const after = makeObject(100_000);
    await run(url, [
      { req: post(`/r/data/${after.id}`, after.data), want: [code(200)] },
      { req: { method: 'GET', path: `/r/data/${big.id}` }, want: [code(200)] },
    ]);
    expect(readdirSync(`${dataDir}/r/data`, { recursive: true }).filter((name) => String(name).length === 64 + 3)).toHaveLength(2);
  });
});
