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
});
