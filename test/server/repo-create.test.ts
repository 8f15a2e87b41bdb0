import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, head, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('POST /{repo}/?create=true', () => {
  it('creates the folders of restic local layout, idempotently, 0700', async () => {
    const { url, dataDir } = await startServer();
    await run(url, [
      { req: head('/alice/config'), want: [code(404)] },
      { req: post('/alice/?create=true'), want: [code(200)] },
      { req: post('/alice/?create=true'), want: [code(200)] },
    ]);
    for (const type of ['data', 'keys', 'locks', 'snapshots', 'index']) {
      expect(statSync(join(dataDir, 'alice', type)).isDirectory()).toBe(true);
    }
    for (const sub of ['00', '7f', 'ff']) expect(existsSync(join(dataDir, 'alice', 'data', sub))).toBe(true);
    expect(statSync(join(dataDir, 'alice')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'alice', 'data', 'ab')).mode & 0o777).toBe(0o700);
  });

  it('creates the root repository and repositories two folders deep, not three', async () => {
    const { url, dataDir } = await startServer();
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post('/alice/laptop/?create=true'), want: [code(200)] },
      { req: post('/a/b/c/?create=true'), want: [code(404)] },
    ]);
    expect(existsSync(join(dataDir, 'keys'))).toBe(true);
    expect(existsSync(join(dataDir, 'alice', 'laptop', 'keys'))).toBe(true);
    expect(existsSync(join(dataDir, 'a'))).toBe(false);
  });

  it('refuses a POST without create=true (400) and other methods (405 with Allow)', async () => {
    const { url, dataDir } = await startServer();
    const [, second] = await run(url, [
      { req: post('/alice/'), want: [code(400)] },
      { req: { method: 'GET', path: '/alice/' }, want: [code(405)] },
    ]);
    expect(second?.headers.allow).toBe('POST');
    expect(existsSync(join(dataDir, 'alice'))).toBe(false);
  });
});

describe('--group-accessible-repos', () => {
  it('makes folders 0770 and files 0660 whatever the umask, small files (saved whole) and large ones (streamed)', async () => {
    const { url, dataDir } = await startServer({ groupAccessibleRepos: true });
    const small = makeObject();
    const large = makeObject(3 << 20);
    const previous = process.umask(0o077);
    try {
      await run(url, [
        { req: post('/alice/laptop/?create=true'), want: [code(200)] },
        { req: post(`/alice/laptop/data/${small.id}`, small.data), want: [code(200)] },
        { req: post(`/alice/laptop/data/${large.id}`, large.data), want: [code(200)] },
      ]);
    } finally {
      process.umask(previous);
    }
    for (const folder of ['alice', 'alice/laptop', 'alice/laptop/keys', 'alice/laptop/data/00']) {
      expect(statSync(join(dataDir, folder)).mode & 0o777, folder).toBe(0o770);
    }
    for (const { id } of [small, large]) expect(statSync(join(dataDir, 'alice/laptop/data', id.slice(0, 2), id)).mode & 0o777).toBe(0o660);
  });
});
