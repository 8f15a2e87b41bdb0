import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { body, code, get, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount } from '../helpers/tools.js';
import { tempFilesUnder } from '../helpers/temp-files.js';

describe.skipIf(!canMount())('a full disk', () => {
  it('answers 507, keeps no partial object or temp file, and accepts uploads that fit', async () => {
    const usb = new FakeUsbDisk(8);
    const { url } = await startServer({ path: usb.mountPoint });
    const big = makeObject(12 << 20);
    const small = makeObject(1 << 20);
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: post(`/r/data/${big.id}`, big.data), want: [code(507)] },
      { req: get(`/r/data/${big.id}`), want: [code(404)] },
      { req: post(`/r/data/${small.id}`, small.data), want: [code(200)] },
      { req: get(`/r/data/${small.id}`), want: [code(200), body(small.data)] },
    ]);
    expect(tempFilesUnder(usb.mountPoint)).toEqual([]);
  });

  it('with no room left for one more file: 507 for a small upload (saved whole) and a large one (streamed), nothing left behind, and uploads work again once a file is gone', async () => {
    const usb = new FakeUsbDisk(64, 400);
    const { url } = await startServer({ path: usb.mountPoint });
    await run(url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    const filler = join(usb.mountPoint, 'filler');
    mkdirSync(filler);
    let count = 0;
    try {
      for (;;) writeFileSync(join(filler, String(count++)), '');
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const small = makeObject(4096);
    const large = makeObject(3 << 20);
    await run(url, [
      { req: post(`/r/index/${small.id}`, small.data), want: [code(507)] },
      { req: post(`/r/data/${large.id}`, large.data), want: [code(507)] },
    ]);
    expect(tempFilesUnder(usb.mountPoint)).toEqual([]);
    rmSync(join(filler, '0'));
    rmSync(join(filler, '1'));
    await run(url, [
      { req: post(`/r/index/${small.id}`, small.data), want: [code(200)] },
      { req: post(`/r/data/${large.id}`, large.data), want: [code(200)] },
      { req: get(`/r/data/${large.id}`), want: [code(200), body(large.data)] },
    ]);
  });
});
