import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, get, header, json, makeObject, post, run, V2 } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('GET /{repo}/{type}/', () => {
  it('lists ids (v1) and ids with sizes (v2) with the exact content types', async () => {
    const { url } = await startServer();
    const a = makeObject(10);
    const b = makeObject(20);
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: get('/r/data/'), want: [code(200), json([]), header('content-type', 'application/vnd.x.restic.rest.v1')] },
      { req: get('/r/data/', { Accept: V2 }), want: [code(200), json([]), header('content-type', V2)] },
      { req: post(`/r/data/${a.id}`, a.data), want: [code(200)] },
      { req: post(`/r/data/${b.id}`, b.data), want: [code(200)] },
    ]);
    const [v1, v2] = await run(url, [
      { req: get('/r/data/'), want: [code(200)] },
      { req: get('/r/data/', { Accept: V2 }), want: [code(200), header('content-type', V2)] },
    ]);
    expect((JSON.parse(v1!.text) as string[]).sort()).toEqual([a.id, b.id].sort());
    const sorted = (JSON.parse(v2!.text) as { name: string }[]).sort((x, y) => x.name.localeCompare(y.name));
    expect(sorted).toEqual(
      [
        { name: a.id, size: 10 },
        { name: b.id, size: 20 },
      ].sort((x, y) => x.name.localeCompare(y.name)),
    );
  });

  it('uses v2 only for exactly the v2 Accept value', async () => {
    const { url } = await startServer();
    const a = makeObject(10);
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/keys/${a.id}`, a.data), want: [code(200)] },
      { req: get('/keys/', { Accept: `${V2}, */*` }), want: [code(200), json([a.id])] },
      { req: get('/keys/', { Accept: V2 }), want: [code(200), json([{ name: a.id, size: 10 }])] },
    ]);
  });

  it('shows only valid ids: never temp files or foreign files', async () => {
    const { url, dataDir } = await startServer();
    const a = makeObject(10);
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/index/${a.id}`, a.data), want: [code(200)] },
    ]);
    writeFileSync(join(dataDir, 'index', '.rts-tmp-00112233aabbccdd'), 'x');
    writeFileSync(join(dataDir, 'index', 'README'), 'x');
    writeFileSync(join(dataDir, 'data', 'ab', `${'ab'.repeat(31)}-tmp-123`), 'x');
    await run(url, [
      { req: get('/index/'), want: [code(200), json([a.id])] },
      { req: get('/data/'), want: [code(200), json([])] },
    ]);
  });

  it('is 404 for a repository that does not exist, 405 for other methods', async () => {
    const { url } = await startServer();
    const [, res] = await run(url, [
      { req: get('/nobody/snapshots/'), want: [code(404)] },
      { req: post('/nobody/snapshots/'), want: [code(405)] },
    ]);
    expect(res?.headers.allow).toBe('HEAD, GET');
  });
});
