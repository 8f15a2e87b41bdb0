import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { body, code, get, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

const TYPES = ['data', 'keys', 'locks', 'snapshots', 'index'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('POST /{repo}/{type}/{id}', () => {
  it('stores every type in restic local layout with mode 0600', async () => {
    const { url, dataDir } = await startServer();
    await run(url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    for (const type of TYPES) {
      const { id, data } = makeObject();
      await run(url, [
        { req: post(`/r/${type}/${id}`, data), want: [code(200)] },
        { req: get(`/r/${type}/${id}`), want: [code(200), body(data)] },
      ]);
      const file = type === 'data' ? join(dataDir, 'r', 'data', id.slice(0, 2), id) : join(dataDir, 'r', type, id);
      expect(readFileSync(file).equals(data)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  });

  it('refuses a body that does not match its id (400) and keeps nothing', async () => {
    const { url, dataDir } = await startServer();
    const { id } = makeObject();
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: post(`/r/data/${id}`, 'not the right body'), want: [code(400)] },
      { req: get(`/r/data/${id}`), want: [code(404)] },
    ]);
    expect(filesUnder(join(dataDir, 'r'))).toEqual([]);
  });

  it('accepts a mismatching body with verification off', async () => {
    const { url } = await startServer({ verifyUpload: false });
    const { id } = makeObject();
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/keys/${id}`, 'unverified'), want: [code(200)] },
      { req: get(`/keys/${id}`), want: [code(200), body('unverified')] },
    ]);
  });

  it('refuses invalid ids (400) and unknown repositories (404) without creating anything', async () => {
    const { url, dataDir } = await startServer();
    const { id, data } = makeObject();
    await run(url, [
      { req: post(`/nobody/data/${id}`, data), want: [code(404)] },
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/data/${id.toUpperCase()}`, data), want: [code(400)] },
      { req: post(`/data/${id.slice(1)}`, data), want: [code(400)] },
    ]);
    expect(readdirSync(dataDir)).not.toContain('nobody');
    expect(filesUnder(join(dataDir, 'data'))).toEqual([]);
  });

  it('answers 200 to a retried upload of an existing object (restic retries lost answers)', async () => {
    const { url } = await startServer();
    const { id, data } = makeObject();
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/data/${id}`, data), want: [code(200)] },
      { req: post(`/data/${id}`, data), want: [code(200)] },
      { req: post(`/data/${id}`, 'corrupt retry'), want: [code(400)] },
      { req: get(`/data/${id}`), want: [code(200), body(data)] },
    ]);
  });

  it('keeps an existing object untouched in append-only mode', async () => {
    const { url, dataDir } = await startServer({ appendOnly: true });
    const { id, data } = makeObject();
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/index/${id}`, data), want: [code(200)] },
    ]);
    const file = join(dataDir, 'index', id);
    const before = statSync(file);
    await run(url, [
      { req: post(`/index/${id}`, data), want: [code(200)] },
      { req: post(`/index/${id}`, 'different'), want: [code(400)] },
    ]);
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('streams a chunked body of 20 MiB and verifies it', async () => {
    const { url } = await startServer();
    const { id, data } = makeObject(20 << 20);
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/data/${id}`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let offset = 0; offset < data.length; offset += 1 << 20) req.write(data.subarray(offset, offset + (1 << 20)));
      req.end();
    });
    expect(status).toBe(200);
    await run(url, [{ req: get(`/data/${id}`), want: [code(200), body(data)] }]);
  });

  it('verifies large bodies uploaded at once each on its own: one changed in its last byte is refused, the others kept byte for byte', async () => {
    const { url, dataDir } = await startServer();
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    const objects = Array.from({ length: 8 }, () => makeObject((3 << 20) + 17));
    const changed = objects[5] as (typeof objects)[number];
    const sent = Buffer.from(changed.data);
    sent.writeUInt8(sent.readUInt8(sent.length - 1) ^ 1, sent.length - 1);
    const answers = await Promise.all(objects.map(({ id, data }) => run(url, [{ req: post(`/data/${id}`, id === changed.id ? sent : data), want: [] }])));
    expect(answers.map(([answer]) => answer?.status)).toEqual(objects.map(({ id }) => (id === changed.id ? 400 : 200)));
    for (const { id, data } of objects) {
      if (id === changed.id) await run(url, [{ req: get(`/data/${id}`), want: [code(404)] }]);
      else await run(url, [{ req: get(`/data/${id}`), want: [code(200), body(data)] }]);
    }
    expect(filesUnder(join(dataDir, 'data')).filter((file) => file.includes('.rts-tmp-'))).toEqual([]);
  });

  it('removes temp files left by an interrupted upload when it starts', async () => {
    const first = await startServer();
    await run(first.url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    await first.close();
    const leftover = join(first.dataDir, 'r', 'data', 'ab', '.rts-tmp-0123456789abcdef');
    const foreign = join(first.dataDir, 'r', 'data', 'ab', 'notes.txt');
    writeFileSync(leftover, 'half an upload');
    writeFileSync(foreign, 'not ours');
    await startServer({ path: first.dataDir });
    expect(readdirSync(join(first.dataDir, 'r', 'data', 'ab'))).toEqual(['notes.txt']);
  });
});
