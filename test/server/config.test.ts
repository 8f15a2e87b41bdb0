import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { body, code, del, get, head, header, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('/{repo}/config', () => {
  it('is saved once, read back, stat-ed with its length, and never overwritten', async () => {
    const { url, dataDir } = await startServer();
    const config = 'encrypted config bytes';
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: head('/r/config'), want: [code(404)] },
      { req: get('/r/config'), want: [code(404)] },
      { req: post('/r/config', config), want: [code(200)] },
      { req: head('/r/config'), want: [code(200), header('content-length', String(config.length))] },
      { req: get('/r/config'), want: [code(200), body(config)] },
      { req: post('/r/config', 'other'), want: [code(403)] },
      { req: get('/r/config'), want: [code(200), body(config)] },
    ]);
    expect(statSync(join(dataDir, 'r', 'config')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dataDir, 'r')).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('cannot be written into a repository that was never created', async () => {
    const { url, dataDir } = await startServer();
    await run(url, [{ req: post('/nobody/config', 'x'), want: [code(404)] }]);
    expect(readdirSync(dataDir).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('is deleted (again and again), except in append-only mode', async () => {
    const normal = await startServer();
    await run(normal.url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post('/config', 'c'), want: [code(200)] },
      { req: del('/config'), want: [code(200)] },
      { req: head('/config'), want: [code(404)] },
      // Idempotent, as in rest-server: a retried delete succeeds.
      { req: del('/config'), want: [code(200)] },
    ]);
    const appendOnly = await startServer({ appendOnly: true });
    await run(appendOnly.url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post('/config', 'c'), want: [code(200)] },
      { req: del('/config'), want: [code(403)] },
      { req: get('/config'), want: [code(200), body('c')] },
    ]);
  });

  it('answers 405 with Allow for other methods', async () => {
    const { url } = await startServer();
    const [res] = await run(url, [{ req: { method: 'PUT', path: '/config' }, want: [code(405)] }]);
    expect(res?.headers.allow?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'POST']);
  });
});
