import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MARKER_NAME } from '../../server/disk-guard.js';
import type { DiskState } from '../../server/disk-guard.js';
import { makeCertificates } from '../helpers/certs.js';
import { code, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';
import { hasTool } from '../helpers/tools.js';

function statusOver(port: number, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/config', method: 'GET', ca: readFileSync(ca), agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('state that breaks while serving', () => {
  it.runIf(hasTool('openssl'))('certificate files removed: new connections keep the certificate in use, and the warning says so', async () => {
    const certs = makeCertificates();
    const { server, port } = await startServer({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    const warnings: string[] = [];
    server.on('warning', (message) => warnings.push(message));
    expect(await statusOver(port, certs.caFile)).toBe(404);
    rmSync(certs.certFile);
    rmSync(certs.keyFile);
    await expect.poll(() => warnings.join('\n'), { timeout: 5000 }).toMatch(/the TLS certificate .* does not exist.*; still using the previous certificate/);
    expect(await statusOver(port, certs.caFile)).toBe(404);
  });

  it('the disk marker deleted: writes are refused with 503 and the reason, nothing is written, and a new marker is not made behind the user’s back', async () => {
    const { server, url, dataDir } = await startServer();
    const states: DiskState[] = [];
    server.on('disk', (state) => states.push(state));
    await run(url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    rmSync(join(dataDir, MARKER_NAME));
    const { id, data } = makeObject();
    await expect
      .poll(async () => (await run(url, [{ req: post(`/r/data/${id}`, data), want: [] }]))[0]?.status, { timeout: 5000 })
      .toBe(503);
    expect(states.at(-1)).toMatchObject({ ok: false, reason: expect.stringMatching(/no longer holds the disk \(unplugged\? the marker file is gone\)$/) });
    await run(url, [{ req: { method: 'GET', path: `/r/data/${id}` }, want: [code(503)] }]);
    expect(() => readFileSync(join(dataDir, MARKER_NAME))).toThrow();
  });
});
