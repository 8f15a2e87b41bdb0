import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../main/csp.js';
import { startBridge, type Bridge } from '../../../main/headless/bridge.js';
import { freePort, openController } from '../../helpers/controller.js';
import { callGui, HEADLESS_CLI, startHeadlessCli } from '../../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk } from '../../helpers/restic.js';
import { hasTool } from '../../helpers/tools.js';
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

const tokenOf = (address: string): string => /#token=([\w-]+)/.exec(address)?.[1] as string;

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
    expect(JSON.parse((await getState({})).text).error.message).toMatch(/open the GUI address again, as printed when headless mode started or kept in the file gui-address.txt/);
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
      // The desktop app's controller (and this one) has no GUI address to renew.
      ['newGuiAddress', undefined, 422, 'no-gui-address'],
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

  it.runIf(hasTool('restic'))('a waiting download is refused to another page (without being used up), served once to its own, and a guessed one is not there', { timeout: 60_000 }, async () => {
    const { bridge, controller } = await bridged();
    const data = tempDir('rts-data-');
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: data });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    const source = tempDir('rts-source-');
    writeFileSync(join(source, 'letter.txt'), 'Dear Anna');
    await resticOk(join(data, anna.username), ['init']);
    await resticOk(join(data, anna.username), ['backup', source]);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    const snapshotId = (await controller.listSnapshots({ username: anna.username }))[0]?.id as string;
    const waiting = await controller.startDownload({ username: anna.username, snapshotId, path: join(source, 'letter.txt'), format: 'file' });
    const path = `/download/${waiting?.id}`;

    expect((await call(bridge, 'GET', path, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expect((await call(bridge, 'GET', path, { headers: { Origin: 'https://attacker.example' } })).status).toBe(403);
    expect((await call(bridge, 'GET', '/download/0123456789abcdef0123456789abcdef')).status).toBe(404);
    const own = await call(bridge, 'GET', path, { headers: { 'Sec-Fetch-Site': 'same-origin' } });
    expect(own).toMatchObject({ status: 200, text: 'Dear Anna' });
    expect(own.headers['content-disposition']).toBe("attachment; filename*=UTF-8''letter.txt");
    expect((await call(bridge, 'GET', path)).status).toBe(404);
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
    const states: { computers: { displayName: string }[] }[] = [];
    const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { Authorization: bearer } });
    req.on('response', (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      res.on('data', (chunk: Buffer) => {
        const frames = chunk.toString().split('\n\n').filter((frame) => frame.startsWith('event: state'));
        states.push(...frames.map((frame) => JSON.parse(frame.split('\ndata: ')[1] as string)));
      });
    });
    req.end();
    // The state comes at once; other rooms may publish changes of their own meanwhile (restic's version found, say).
    await expect.poll(() => states.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(states[0]?.computers).toEqual([]);
    await controller.addComputer({ displayName: 'Ines' });
    await expect.poll(() => states.at(-1)?.computers.map((computer) => computer.displayName), { timeout: 10_000 }).toEqual(['Ines']);
    req.destroy();
  });

  it('npm run headless with stdout a pipe (a service manager’s log) prints the GUI address without its key and the file that holds it (readable only by its user); that address works; once serving, the address computers use', { timeout: 30_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const gui = await startHeadlessCli(configDir);
    const file = join(configDir, 'gui-address.txt');
    expect(gui.out()).toContain(`The GUI's address with its access key is in ${file} (readable only by this user).`);
    expect(/^Settings: (.+)$/m.exec(gui.out())?.[1]).toBe(configDir);
    const address = readFileSync(file, 'utf8');
    expect(address).toMatch(new RegExp(`^${gui.origin}/#token=[\\w-]{43}\\n$`));
    const token = tokenOf(address);
    expect(gui.out()).not.toContain(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, 'headless.json')).mode & 0o777).toBe(0o600);
    expect(await callGui(gui.origin, token)).toBe(200);
    expect(await callGui(gui.origin, 'x'.repeat(43))).toBe(401);

    expect(gui.out()).not.toMatch(/Computers connect to/);
    const port = await freePort();
    expect(await callGui(gui.origin, token, 'chooseFolder', { path: tempDir('rts-data-') })).toBe(200);
    expect(await callGui(gui.origin, token, 'updateSettings', { port, listenAddresses: ['127.0.0.1'] })).toBe(200);
    expect(await callGui(gui.origin, token, 'startServer')).toBe(200);
    await expect.poll(() => /^Computers connect to: (\S+)$/m.exec(gui.out())?.[1], { timeout: 20_000 }).toBe(`https://127.0.0.1:${port}/`);
    await gui.stop();
  });

  it.runIf(hasTool('script'))('in a terminal it prints the whole GUI address, the key included', { timeout: 30_000 }, async () => {
    const configDir = tempDir('rts-config-');
    // `script` gives the process a terminal of its own; detached, so that the whole group can be stopped.
    const child = spawn('script', ['-qec', `${process.execPath} ${HEADLESS_CLI} --config-dir ${configDir}`, '/dev/null'], { detached: true });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await expect.poll(() => /^Settings: /m.test(out), { timeout: 20_000 }).toBe(true);
      const address = readFileSync(join(configDir, 'gui-address.txt'), 'utf8').trim();
      expect(out).toMatch(new RegExp(`^GUI: ${address}\\r?$`, 'm'));
      expect(out).not.toContain('gui-address.txt');
    } finally {
      process.kill(-(child.pid as number), 'SIGTERM');
    }
  });

  it('a restart keeps the GUI’s port and key; --new-token ends the old key (401) and the file holds the new one; a port taken meanwhile moves the GUI to a free one, the key kept; a damaged file gives a new key', { timeout: 60_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const address = () => readFileSync(join(configDir, 'gui-address.txt'), 'utf8').trim();
    const first = await startHeadlessCli(configDir);
    const old = address();
    await first.stop();

    const second = await startHeadlessCli(configDir);
    expect(second.origin).toBe(first.origin);
    expect(address()).toBe(old);
    expect(await callGui(second.origin, tokenOf(old))).toBe(200);
    await second.stop();

    const third = await startHeadlessCli(configDir, ['--new-token']);
    expect(third.out()).toContain('The GUI has a new address: the old one no longer works.');
    expect(third.origin).toBe(first.origin);
    const renewed = address();
    expect(tokenOf(renewed)).not.toBe(tokenOf(old));
    expect(await callGui(third.origin, tokenOf(old))).toBe(401);
    expect(await callGui(third.origin, tokenOf(renewed))).toBe(200);
    await third.stop();

    // Another program took the port meanwhile.
    const taken = Number(new URL(first.origin).port);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    try {
      const fourth = await startHeadlessCli(configDir);
      expect(fourth.out()).toContain(`The GUI's port of last time, ${taken}, is taken by another program: the GUI moved to ${new URL(fourth.origin).port}, so its address changed.`);
      expect(address()).toBe(`${fourth.origin}/#token=${tokenOf(renewed)}`);
      expect(await callGui(fourth.origin, tokenOf(renewed))).toBe(200);
      await fourth.stop();
    } finally {
      squatter.close();
    }

    // A damaged file: a new key, said in words, and the old one refused.
    writeFileSync(join(configDir, 'headless.json'), '{"token": 5');
    const fifth = await startHeadlessCli(configDir);
    expect(fifth.out()).toContain("The GUI's saved address (headless.json) was unreadable: it has a new one.");
    expect(await callGui(fifth.origin, tokenOf(renewed))).toBe(401);
    expect(await callGui(fifth.origin, tokenOf(address()))).toBe(200);
    await fifth.stop();
  });
});
