import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../main/csp.js';
import { startBridge, type Bridge } from '../../../main/headless/bridge.js';
import { freePort, openController } from '../../helpers/controller.js';
import { tempDir } from '../../helpers/temp-dir.js';

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

function call(bridge: Bridge, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const { port } = new URL(bridge.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const bridges: Bridge[] = [];
afterAll(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
});

async function bridged() {
  const { controller } = await openController();
  const parent = tempDir('rts-gui-');
  const staticDir = join(parent, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>GUI</title><script src="app.js"></script>');
  writeFileSync(join(staticDir, 'app.js'), 'console.log(1)');
  writeFileSync(join(parent, 'secret.txt'), 'outside the GUI folder');
  const bugs: unknown[] = [];
  const bridge = await startBridge({ api: controller, port: 0, staticDir, onBug: (error) => bugs.push(error) });
  bridges.push(bridge);
  const bearer = `Bearer ${bridge.token}`;
  const json = { 'Content-Type': 'application/json', Authorization: bearer };
  return { bridge, controller, bearer, json, bugs };
}

describe('the headless bridge', () => {
  it('prints the token in the address’s fragment, serves the GUI with a strict CSP, and sets no cookie', async () => {
    const { bridge } = await bridged();
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);
    const page = await call(bridge, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['content-security-policy']).not.toContain('unsafe');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['set-cookie']).toBeUndefined();
    expect((await call(bridge, 'GET', '/app.js')).text).toBe('console.log(1)');
  });

  it('answers the API only to the token as Authorization: Bearer; a cookie or a query carries nothing', async () => {
    const { bridge, bearer } = await bridged();
    const { token } = bridge;
    const getState = (headers: Record<string, string>, path = '/api/getState') =>
      call(bridge, 'POST', path, { headers: { 'Content-Type': 'application/json', ...headers } });
    expect((await getState({})).status).toBe(401);
    expect(JSON.parse((await getState({})).text).error.message).toMatch(/open the address printed when headless mode started/);
    expect((await getState({ Cookie: `rts_token=${token}` })).status).toBe(401);
    expect((await getState({}, `/api/getState?token=${token}`)).status).toBe(401);
    expect((await getState({ Authorization: 'Bearer guess' })).status).toBe(401);
    expect((await getState({ Authorization: `Basic ${token}` })).status).toBe(401);
    expect((await call(bridge, 'GET', '/api/events')).status).toBe(401);
    expect((await getState({ Authorization: bearer })).status).toBe(200);
  });

  it('never redirects, so no address can send the token to another origin', async () => {
    const { bridge } = await bridged();
    for (const path of [`/.//evil.example/?token=${bridge.token}`, `//evil.example/?token=${bridge.token}`, `/?token=${bridge.token}`]) {
      const answer = await call(bridge, 'GET', path);
      expect(answer.headers.location).toBeUndefined();
      expect(answer.status === 200 || answer.status === 404).toBe(true);
    }
  });

  it('refuses other origins, other host names and non-JSON bodies', async () => {
    const { bridge, json } = await bridged();
    const other = { ...json, Origin: 'http://127.0.0.1:1' };
    expect((await call(bridge, 'POST', '/api/getState', { headers: other })).status).toBe(403);
    expect((await call(bridge, 'POST', '/api/getState', { headers: { ...json, 'Sec-Fetch-Site': 'same-site' } })).status).toBe(403);
    expect((await call(bridge, 'POST', '/api/getState', { headers: { ...json, Host: 'rebound.example:80' } })).status).toBe(421);
    expect((await call(bridge, 'POST', '/api/getState', { headers: { ...json, 'Content-Type': 'text/plain' } })).status).toBe(415);
    const same = { ...json, Origin: bridge.origin, 'Sec-Fetch-Site': 'same-origin' };
    expect((await call(bridge, 'POST', '/api/getState', { headers: same })).status).toBe(200);
  });

  it('carries the contract: results, user errors as { code, message }, and invalid input refused before use', async () => {
    const { bridge, json, bugs } = await bridged();
    const state = await call(bridge, 'POST', '/api/getState', { headers: json });
    expect(JSON.parse(state.text).result.status).toBe('stopped');

    const added = await call(bridge, 'POST', '/api/addComputer', { headers: json, body: JSON.stringify({ displayName: 'Hana' }) });
    expect(added.status).toBe(200);
    expect(JSON.parse(added.text).result).toMatchObject({ username: 'hana', password: expect.stringMatching(/^[\w]{6}(-[\w]{6}){3}$/) });

    const cases: [string, unknown, number, string][] = [
      ['addComputer', { displayName: '' }, 400, 'invalid-input'],
      ['addComputer', { displayName: 'x', admin: true }, 400, 'invalid-input'],
      ['addComputer', { displayName: 'x', password: 'short' }, 400, 'invalid-input'],
      ['removeComputer', { username: '../etc' }, 400, 'invalid-input'],
      ['getState', { extra: 1 }, 400, 'invalid-input'],
      ['browseFolder', { path: 'relative/path' }, 400, 'invalid-input'],
      ['updateSettings', { port: 70000 }, 400, 'invalid-input'],
      ['updateSettings', { listenAddresses: ['not-an-ip'] }, 400, 'invalid-input'],
      ['chooseFolder', { path: '/' }, 422, 'folder-is-root'],
      ['removeComputer', { username: 'nobody' }, 422, 'unknown-computer'],
      ['browseFolder', { path: '/no/such/folder' }, 422, 'folder-not-found'],
      ['setOffsiteS3', { service: 'b2' }, 400, 'invalid-input'],
      ['sftpHostKey', { host: '-oProxyCommand=touch /tmp/x' }, 400, 'invalid-input'],
      ['setOffsiteSftp', { host: 'grandma.example.net', hostKeyFingerprint: 'MD5:aa:bb', user: 'me', password: 'pass', folder: 'copy' }, 400, 'invalid-input'],
      ['setOffsiteSftp', { host: 'grandma.example.net', user: 'me', password: 'pass', folder: 'copy' }, 400, 'invalid-input'],
      ['constructor', undefined, 404, 'unknown-method'],
      ['toString', undefined, 404, 'unknown-method'],
    ];
    for (const [method, input, status, errorCode] of cases) {
      const answer = await call(bridge, 'POST', `/api/${method}`, { headers: json, body: input === undefined ? '' : JSON.stringify(input) });
      expect([method, answer.status, JSON.parse(answer.text).error?.code]).toEqual([method, status, errorCode]);
      expect(JSON.parse(answer.text).error.message.length).toBeGreaterThan(10);
    }
    expect((await call(bridge, 'POST', '/api/getState', { headers: json, body: '{not json' })).status).toBe(400);
    expect((await call(bridge, 'GET', '/api/getState', { headers: json })).status).toBe(405);
    expect(bugs).toEqual([]);
  });

  it('never serves a file outside the GUI folder', async () => {
    const { bridge, bearer } = await bridged();
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/%', '/.hidden']) {
      const answer = await call(bridge, 'GET', path, { headers: { Authorization: bearer } });
      expect([400, 404]).toContain(answer.status);
      expect(answer.text).not.toContain('outside');
    }
  });

  it('streams events: the state at once, then every change', async () => {
    const { bridge, controller, bearer } = await bridged();
    const { port } = new URL(bridge.origin);
    const frames: string[] = [];
    const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { Authorization: bearer } });
    const gotTwo = new Promise<void>((resolve) => {
      req.on('response', (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.on('data', (chunk: Buffer) => {
          frames.push(...chunk.toString().split('\n\n').filter((frame) => frame.startsWith('event: state')));
          if (frames.length >= 2) resolve();
        });
      });
    });
    req.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await controller.addComputer({ displayName: 'Ines' });
    await gotTwo;
    req.destroy();
    const last = JSON.parse((frames.at(-1) as string).split('\ndata: ')[1] as string);
    expect(last.computers.map((computer: { displayName: string }) => computer.displayName)).toEqual(['Ines']);
  });

  it('npm run headless prints the GUI address with the token, the settings folder, and once serving the address computers use', { timeout: 30_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const child = spawn(process.execPath, ['dist/main/headless/cli.js', '--config-dir', configDir, '--gui-port', '0']);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const printed = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const look = () => {
          const match = pattern.exec(out);
          if (match) return resolve(match[1] as string);
          if (child.exitCode !== null) return reject(new Error(`headless mode exited ${child.exitCode}: ${out}`));
          setTimeout(look, 50);
        };
        look();
      });
    try {
      const url = new URL(await printed(/^GUI: (\S+)$/m));
      expect(await printed(/^Settings: (.+)$/m)).toBe(configDir);
      const token = /^#token=([\w-]{43})$/.exec(url.hash)?.[1];
      expect(token).toBeDefined();
      const callApi = (method: string, input?: unknown) =>
        new Promise<number>((resolve, reject) =>
          request({ host: url.hostname, port: url.port, method: 'POST', path: `/api/${method}`, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end(input === undefined ? '' : JSON.stringify(input)),
        );
      expect(await callApi('getState')).toBe(200);
      expect(out).not.toMatch(/Computers connect to/);
      const port = await freePort();
      expect(await callApi('chooseFolder', { path: tempDir('rts-data-') })).toBe(200);
      expect(await callApi('updateSettings', { port, listenAddresses: ['127.0.0.1'] })).toBe(200);
      expect(await callApi('startServer')).toBe(200);
      expect(await printed(/^Computers connect to: (\S+)$/m)).toBe(`https://127.0.0.1:${port}/`);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
