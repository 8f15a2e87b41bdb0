import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, makeObject, post, run, send } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('request paths', () => {
  it('answers 404 for unknown paths and 405 with Allow for known paths with other methods', async () => {
    const { url } = await startServer();
    const { id } = makeObject();
    const [, , , , , , put] = await run(url, [
      { req: { method: 'GET', path: '/a/b/c/d' }, want: [code(404)] },
      { req: { method: 'GET', path: '/r/data/x/y' }, want: [code(404)] },
      { req: { method: 'GET', path: '/r/config/x' }, want: [code(404)] },
      { req: { method: 'GET', path: '//data/' }, want: [code(404)] },
      { req: { method: 'GET', path: '/r//' }, want: [code(404)] },
      { req: { method: 'GET', path: '/r/unknown-type/x/y' }, want: [code(404)] },
      { req: { method: 'PUT', path: `/data/${id}` }, want: [code(405)] },
      { req: { method: 'TRACE', path: '/config' }, want: [code(405)] },
      { req: { method: 'PROPFIND', path: '/keys/' }, want: [code(405)] },
    ]);
    expect(put?.headers.allow?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'POST']);
  });

  it('never reads or writes outside the data folder, whatever the path', async () => {
    const parent = tempDir('rts-parent-');
    const dataDir = join(parent, 'data');
    const canary = join(parent, 'canary');
    mkdirSync(dataDir);
    mkdirSync(join(canary, 'keys'), { recursive: true });
    writeFileSync(join(canary, 'config'), 'secret');
    const { url } = await startServer({ path: dataDir });
    const { id, data } = makeObject();
    const attempts = [
      '/../canary/config',
      '/%2e%2e/canary/config',
      '/%2E%2E/canary/keys/',
      '/..%2fcanary/config',
      '/..%5ccanary/config',
      '/x/%2e%2e/%2e%2e/canary/config',
      '/./config',
      '/%00/config',
      '/c%3a/config',
      '/.hidden/config',
      '/con/config',
      '/%ZZ/config',
      `/${'a'.repeat(300)}/config`,
    ];
    for (const path of attempts) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const res = await send(url, { method, path });
        expect([400, 404], `${method} ${path}`).toContain(res.status);
      }
      const created = await send(url, post(`${dirname(path)}/?create=true`));
      expect(created.status, `create ${path}`).not.toBe(500);
      const saved = await send(url, post(path.replace(/config$/, `keys/${id}`), data));
      expect([400, 404], `save ${path}`).toContain(saved.status);
    }
    expect(readdirSync(parent).sort()).toEqual(['canary', 'data']);
    expect(readdirSync(canary).sort()).toEqual(['config', 'keys']);
    expect(readdirSync(join(canary, 'keys'))).toEqual([]);
  });

  it('rejects absolute-form request targets', async () => {
    const { url } = await startServer();
    await run(url, [{ req: { method: 'GET', path: 'http://example.invalid/config' }, want: [code(400)] }]);
  });
});
