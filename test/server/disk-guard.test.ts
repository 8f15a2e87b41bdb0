import { readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiskState } from '../../server/disk-guard.js';
import { ResticServer } from '../../server/server.js';
import { code, get, head, makeObject, post, run } from '../helpers/http.js';
import { makeSourceTree, resticOk, snapshotCount } from '../helpers/restic.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount, hasTool } from '../helpers/tools.js';

describe('disk guard without a real disk', () => {
  it('refuses to start on a folder that does not exist, and creates nothing', async () => {
    const parent = tempDir();
    await expect(ResticServer.create({ path: join(parent, 'usb') })).rejects.toThrow(/does not exist.*plug in the backup disk/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('answers 503 once the marker is gone, and resumes when it is back', async () => {
    const { url, dataDir, server } = await startServer();
    const disk: DiskState[] = [];
    server.on('disk', (state) => disk.push(state));
    const marker = join(dataDir, '.restic-tray-server-disk');
    await run(url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    renameSync(marker, `${marker}.away`);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { id, data } = makeObject();
    await run(url, [
      { req: post(`/r/data/${id}`, data), want: [code(503)] },
      { req: head('/r/config'), want: [code(503)] },
    ]);
    renameSync(`${marker}.away`, marker);
    await run(url, [{ req: post(`/r/data/${id}`, data), want: [code(200)] }]);
    expect(disk.map((state) => state.ok)).toEqual([false, true]);
  });

  it('with a known disk id, neither adopts an empty folder nor one that carries another disk id', async () => {
    const empty = tempDir();
    const first = await startServer({ path: empty, diskId: 'the-household-disk' });
    await run(first.url, [{ req: post('/?create=true'), want: [code(503)] }]);
    expect(readdirSync(empty)).toEqual([]);

    const other = await startServer();
    await other.close();
    const second = await startServer({ path: other.dataDir, diskId: 'the-household-disk' });
    expect(second.server.diskState).toMatchObject({ ok: false, reason: expect.stringMatching(/different disk/) });
    await run(second.url, [{ req: post('/?create=true'), want: [code(503)] }]);
    expect(readdirSync(other.dataDir)).toEqual(['.restic-tray-server-disk']);
  });
});

describe.skipIf(!canMount() || !hasTool('restic'))('disk guard with a USB disk played by tmpfs', () => {
  it('unplugged mid-life: 503, nothing written to the bare mount point; plugged back: resumes', { timeout: 120_000 }, async () => {
    const usb = new FakeUsbDisk();
    const { url, server } = await startServer({ path: usb.mountPoint });
    const states: DiskState[] = [];
    server.on('disk', (state) => states.push(state));
    const repo = `rest:${url}/laptop/`;
    const source = makeSourceTree(3, 1 << 20);
    await resticOk(repo, ['init']);
    await resticOk(repo, ['backup', source]);
    const deviceBefore = statSync(usb.mountPoint).dev;

    usb.unplug();
    expect(statSync(usb.mountPoint).dev).not.toBe(deviceBefore);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { id, data } = makeObject();
    await run(url, [
      { req: post(`/laptop/data/${id}`, data), want: [code(503)] },
      { req: post('/laptop/?create=true'), want: [code(503)] },
      { req: post('/other/?create=true'), want: [code(503)] },
      { req: get('/laptop/config'), want: [code(503)] },
    ]);
    expect(readdirSync(usb.mountPoint)).toEqual([]);
    expect(states.at(-1)).toMatchObject({ ok: false });

    usb.plug();
    await run(url, [{ req: post(`/laptop/data/${id}`, data), want: [code(200)] }]);
    expect(states.at(-1)).toMatchObject({ ok: true });
    await resticOk(repo, ['backup', source]);
    expect(await snapshotCount(repo)).toBe(2);
    await resticOk(repo, ['check', '--read-data']);
  });

  it('reports the disk state change without any request', { timeout: 30_000 }, async () => {
    const usb = new FakeUsbDisk();
    const { server } = await startServer({ path: usb.mountPoint });
    const next = () => new Promise<DiskState>((resolve) => server.once('disk', resolve));
    const gone = next();
    usb.unplug();
    expect(await gone).toMatchObject({ ok: false });
    const back = next();
    usb.plug();
    expect(await back).toMatchObject({ ok: true });
  });
});
