import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { code, del, get, makeObject, post, run, send } from '../helpers/http.js';
import { openDescriptors } from '../helpers/open-files.js';
import { openRaw, sleep } from '../helpers/raw-socket.js';
import { makeSourceTree, restic, resticOk, snapshotCount } from '../helpers/restic.js';
import { startServer } from '../helpers/running-server.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount, hasTool } from '../helpers/tools.js';
import { tempFilesUnder } from '../helpers/temp-files.js';

/** Files of the data folder that this process (client and server) holds open. */
const openFilesUnder = (dir: string) => openDescriptors().filter((target) => target.startsWith(dir));

/** The bytes of all files under a folder, as the quota counts them. */
const bytesUnder = (dir: string): number =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(join(entry.parentPath, entry.name)).size, 0);

/** Waits with sub-millisecond precision (timers round to whole milliseconds), letting I/O run. */
async function busyWait(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
}

function chunkedUpload(url: string, path: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let offset = 0; offset < data.length; offset += 64 << 10) req.write(data.subarray(offset, offset + (64 << 10)));
    req.end();
  });
}

describe('quotas', () => {
  it('refuses with 507 past a user’s quota on every path, takes nothing, leaks nothing, and frees on delete', async () => {
    const users = new Map([['anna', { quotaBytes: 100_000 }]]);
    const { url, server, dataDir } = await startServer({ users });
    await run(url, [{ req: post('/anna/?create=true'), want: [code(200)] }]);
    const first = makeObject(60_000);
    const second = makeObject(60_000);
    await run(url, [{ req: post(`/anna/data/${first.id}`, first.data), want: [code(200)] }]);
    const used = server.quotaUsage()?.perFolder.get('anna');
    expect(used).toBe(60_000);

    // Declared length: refused before a byte is stored.
    await run(url, [{ req: post(`/anna/data/${second.id}`, second.data), want: [code(507)] }]);
    // Chunked: refused once the bytes arrive.
    expect(await chunkedUpload(url, `/anna/data/${second.id}`, second.data)).toBe(507);
    // A body shorter than announced: the client is gone, the bytes it took are given back.
    const raw = await openRaw(server.port!);
    raw.socket.write(`POST /anna/data/${second.id} HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\n\r\n`);
    raw.socket.write(second.data.subarray(0, 10_000));
    await sleep(100);
    raw.socket.destroy();
    await sleep(200);

    expect(server.quotaUsage()?.perFolder.get('anna')).toBe(used);
    expect(tempFilesUnder(dataDir)).toEqual([]);
    expect(openFilesUnder(dataDir)).toEqual([]);
    await run(url, [{ req: get(`/anna/data/${second.id}`), want: [code(404)] }]);

    // Other folders are not under anna's quota; replacing a file counts once.
    await run(url, [
      { req: post('/ben/?create=true'), want: [code(200)] },
      { req: post(`/ben/data/${second.id}`, second.data), want: [code(200)] },
      { req: post(`/anna/data/${first.id}`, first.data), want: [code(200)] },
    ]);
    expect(server.quotaUsage()?.perFolder.get('anna')).toBe(60_000);

    await run(url, [
      { req: del(`/anna/data/${first.id}`), want: [code(200)] },
      { req: post(`/anna/data/${second.id}`, second.data), want: [code(200)] },
    ]);
    expect(server.quotaUsage()?.perFolder.get('anna')).toBe(60_000);
  });

  it('races of a re-upload against a delete of the same object never let the files outgrow the quota', { timeout: 60_000 }, async () => {
    const quotaBytes = 3_000_000;
    const users = new Map([['anna', { quotaBytes }]]);
    const { url, server, dataDir } = await startServer({ users });
    await run(url, [{ req: post('/anna/?create=true'), want: [code(200)] }]);
    const raced = makeObject(100_000);
    let uploadMs = 2;
    for (let round = 0; round < 300; round++) {
      await run(url, [{ req: post(`/anna/data/${raced.id}`, raced.data), want: [code(200)] }]);
      // A delete sent at a random moment of the upload: some land between its measuring and its rename.
      const started = performance.now();
      const upload = send(url, post(`/anna/data/${raced.id}`, raced.data));
      await busyWait(Math.random() * uploadMs * 1.5);
      const removal = await send(url, del(`/anna/data/${raced.id}`));
      const uploaded = await upload;
      uploadMs = (uploadMs * round + performance.now() - started) / (round + 1);
      expect([uploaded.status, removal.status]).toEqual([200, 200]);
      expect(server.quotaUsage()?.perFolder.get('anna')).toBe(bytesUnder(join(dataDir, 'anna')));
    }
    // Fill up to the limit: whatever the races did, the disk never holds more than the quota.
    for (let stored = 0; stored < 40; stored++) {
      const more = makeObject(100_000);
      const res = await send(url, post(`/anna/data/${more.id}`, more.data));
      expect([200, 507]).toContain(res.status);
      if (res.status === 507) break;
    }
    expect(bytesUnder(join(dataDir, 'anna'))).toBeLessThanOrEqual(quotaBytes);
    expect(server.quotaUsage()?.perFolder.get('anna')).toBe(bytesUnder(join(dataDir, 'anna')));
  });

  it('counts the same after a restart, and --max-size limits all repositories together', async () => {
    const first = await startServer({ maxSize: 150_000 });
    const objects = [makeObject(50_000), makeObject(50_000), makeObject(50_000)];
    await run(first.url, [
      { req: post('/a/?create=true'), want: [code(200)] },
      { req: post('/b/?create=true'), want: [code(200)] },
      { req: post(`/a/data/${objects[0]!.id}`, objects[0]!.data), want: [code(200)] },
      { req: post(`/b/data/${objects[1]!.id}`, objects[1]!.data), want: [code(200)] },
      { req: post(`/b/data/${objects[2]!.id}`, objects[2]!.data), want: [code(507)] },
    ]);
    const before = first.server.quotaUsage();
    await first.close();
    const second = await startServer({ path: first.dataDir, maxSize: 150_000 });
    expect(second.server.quotaUsage()).toEqual(before);
    await run(second.url, [{ req: post(`/b/data/${objects[2]!.id}`, objects[2]!.data), want: [code(507)] }]);
  });

  it.skipIf(!hasTool('restic'))('stops a restic backup at the limit, keeps the repository clean, and completes after the limit is raised', { timeout: 200_000 }, async () => {
    const users = new Map([['pc', { quotaBytes: 3_000_000 }]]);
    const first = await startServer({ users });
    const source = makeSourceTree(4, 2 << 20);
    const repo = (url: string) => `rest:${url}/pc/`;
    await resticOk(repo(first.url), ['init']);
    const stopped = await restic(repo(first.url), ['backup', source], { timeoutMs: 180_000 });
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toMatch(/507|Insufficient Storage/i);
    await first.close();

    const raised = new Map([['pc', { quotaBytes: 100_000_000 }]]);
    const second = await startServer({ path: first.dataDir, users: raised });
    await resticOk(repo(second.url), ['unlock']);
    await resticOk(repo(second.url), ['check']);
    await resticOk(repo(second.url), ['backup', source]);
    expect(await snapshotCount(repo(second.url))).toBe(1);
    await resticOk(repo(second.url), ['check', '--read-data']);
  });
});

describe.skipIf(!canMount())('quotas and a USB disk', () => {
  it('counts the disk again when it comes back, after a start without it', { timeout: 30_000 }, async () => {
    const usb = new FakeUsbDisk();
    const first = await startServer({ path: usb.mountPoint });
    const object = makeObject(70_000);
    await run(first.url, [
      { req: post('/anna/?create=true'), want: [code(200)] },
      { req: post(`/anna/data/${object.id}`, object.data), want: [code(200)] },
    ]);
    await first.close();
    const diskId = first.server.diskState.diskId;

    usb.unplug();
    const users = new Map([['anna', { quotaBytes: 100_000 }]]);
    const { server } = await startServer({ path: usb.mountPoint, diskId, users });
    expect(server.diskState.ok).toBe(false);
    expect(server.quotaUsage()?.perFolder.get('anna')).toBeUndefined();

    const back = new Promise((resolve) => server.once('disk', resolve));
    usb.plug();
    await back;
    expect(server.quotaUsage()?.perFolder.get('anna')).toBe(70_000);
  });
});
