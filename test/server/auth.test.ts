import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { code, header, makeObject, post, run, send, type Req, type Res } from '../helpers/http.js';
import { addUser, basic, htpasswdFile } from '../helpers/htpasswd.js';
import { sleep } from '../helpers/raw-socket.js';
import { startServer } from '../helpers/running-server.js';
import { hasTool } from '../helpers/tools.js';

/** Sends a request until it gets `status` (the file is re-read within a few seconds). */
async function untilStatus(url: string, req: Req, status: number): Promise<void> {
  let res: Res | undefined;
  for (let i = 0; i < 50 && res?.status !== status; i++) {
    await sleep(100);
    res = await send(url, req);
  }
  expect(res?.status).toBe(status);
}

const withAuth = (path: string, user: string, password: string) => post(path, '', basic(user, password));

describe.skipIf(!hasTool('htpasswd'))('authentication with .htpasswd', () => {
  it('accepts users of Apache htpasswd -B, -s and -m files, and refuses wrong passwords with 401 + WWW-Authenticate', async () => {
    const file = htpasswdFile([
      ['bcrypt', 'pw-b', 'B'],
      ['sha', 'pw-s', 's'],
      ['md5', 'pw-m', 'm'],
    ]);
    const { url } = await startServer({ noAuth: false, htpasswdFile: file });
    await run(url, [
      { req: withAuth('/bcrypt/?create=true', 'bcrypt', 'pw-b'), want: [code(200)] },
      { req: withAuth('/sha/?create=true', 'sha', 'pw-s'), want: [code(200)] },
      { req: withAuth('/md5/?create=true', 'md5', 'pw-m'), want: [code(200)] },
      { req: withAuth('/bcrypt/?create=true', 'bcrypt', 'pw-s'), want: [code(401), header('www-authenticate', 'Basic realm="restic"')] },
      { req: withAuth('/x/?create=true', 'nobody', 'pw-b'), want: [code(401)] },
      { req: post('/x/?create=true'), want: [code(401), header('www-authenticate', 'Basic realm="restic"')] },
      { req: { method: 'GET', path: '/no/such/path/here/at/all' }, want: [code(401)] },
      { req: { method: 'GET', path: '/', headers: { Authorization: 'Basic !!!' } }, want: [code(401)] },
    ]);
  });

  it('uses the data folder’s .htpasswd by default, and picks up a new user without a restart', async () => {
    const first = await startServer();
    await first.close();
    const file = `${first.dataDir}/.htpasswd`;
    addUser(file, 'anna', 'first');
    const { url, server } = await startServer({ path: first.dataDir, noAuth: false });
    const warnings: string[] = [];
    server.on('warning', (message) => warnings.push(message));
    await run(url, [
      { req: withAuth('/anna/?create=true', 'anna', 'first'), want: [code(200)] },
      { req: withAuth('/ben/?create=true', 'ben', 'second'), want: [code(401)] },
    ]);
    addUser(file, 'ben', 'second');
    await untilStatus(url, withAuth('/ben/?create=true', 'ben', 'second'), 200);

    // A line the server refuses is skipped on reload too: the other changes still take effect.
    execFileSync('htpasswd', ['-b', '-B', file, 'John Doe', 'pw'], { stdio: 'ignore' });
    execFileSync('htpasswd', ['-D', file, 'ben'], { stdio: 'ignore' });
    await untilStatus(url, withAuth('/ben/?create=true', 'ben', 'second'), 401);
    await run(url, [{ req: withAuth('/anna/?create=true', 'anna', 'first'), want: [code(200)] }]);
    expect(warnings.join('\n')).toMatch(/line \d: invalid user name "John Doe"/);

    // A file that cannot be read keeps the users it had, and says why.
    rmSync(file);
    await sleep(2500);
    await run(url, [{ req: withAuth('/anna/?create=true', 'anna', 'first'), want: [code(200)] }]);
    expect(warnings.join('\n')).toMatch(/cannot reload .*keeping the previous users/);

    // A file with no valid user at all is taken as it is, and said loudly.
    writeFileSync(file, 'this is not an htpasswd file\n');
    await untilStatus(url, withAuth('/anna/?create=true', 'anna', 'first'), 401);
    expect(warnings.join('\n')).toMatch(/has no valid user: every request will be refused/);
  });

  it('names the user and format of a hash it cannot verify', async () => {
    const file = htpasswdFile([['ok', 'pw', 'B']]);
    appendFileSync(file, 'old:abCDefGHijKLm\n');
    const { url, server } = await startServer({ noAuth: false, htpasswdFile: file });
    const warnings: string[] = [];
    server.on('warning', (message) => warnings.push(message));
    await sleep(10);
    await run(url, [{ req: withAuth('/old/?create=true', 'old', 'abCDefGHijKLm'), want: [code(401)] }]);
    expect(warnings.join('\n')).toMatch(/user old: unsupported password format "abCDef"/);
  });

  it('slows down repeated failures from one address without slowing a correct client elsewhere', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([['kid', 'right', 'B']]);
    const { url, port } = await startServer({ noAuth: false, htpasswdFile: file });
    const attempt = (localAddress: string, password: string) =>
      new Promise<{ status: number; ms: number }>((resolve, reject) => {
        const started = Date.now();
        request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/kid/?create=true', headers: basic('kid', password) }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
        })
          .on('error', reject)
          .end();
      });
    const flood = Array.from({ length: 60 }, (_, i) => attempt('127.0.0.2', `wrong-${i}`));
    const correct: { status: number; ms: number }[] = [];
    for (let i = 0; i < 20; i++) correct.push(await attempt('127.0.0.1', 'right'));
    const flooded = await Promise.all(flood);
    expect(flooded.every((result) => result.status === 401)).toBe(true);
    expect(correct.every((result) => result.status === 200)).toBe(true);
    expect(Math.max(...flooded.map((result) => result.ms))).toBeGreaterThanOrEqual(250);
    await run(url, [{ req: withAuth('/kid/?create=true', 'kid', 'right'), want: [code(200)] }]);
  });

  it('a change to one login never refuses another: users whose line is unchanged stay valid through a reload, even mid-check', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `computer-${i}`);
    const file = htpasswdFile([...names.map((name): [string, string] => [name, `pw-${name}`]), ['reset-me', 'old']]);
    const { url, server } = await startServer({ noAuth: false, htpasswdFile: file });
    for (const [round, name] of names.entries()) {
      // Each computer's first request needs a bcrypt check; the app rewrites the file (atomically, as it does) and reloads meanwhile.
      const answer = send(url, withAuth(`/${name}/?create=true`, name, `pw-${name}`));
      await sleep(5);
      const next = `${file}.next`;
      writeFileSync(next, readFileSync(file, 'utf8'));
      addUser(next, 'reset-me', `new-${round}`);
      renameSync(next, file);
      server.reloadUsers();
      expect((await answer).status, name).toBe(200);
    }
  });

  it('a login removed from a file its writer replaced whole is refused at once, not after the wait meant for half-written files', async () => {
    const file = htpasswdFile([['stays', 'pw-stays'], ['leaves', 'pw-leaves']]);
    const { url, server } = await startServer({ noAuth: false, htpasswdFile: file });
    await run(url, [{ req: withAuth('/leaves/?create=true', 'leaves', 'pw-leaves'), want: [code(200)] }]);
    const next = `${file}.next`;
    writeFileSync(next, readFileSync(file, 'utf8'));
    execFileSync('htpasswd', ['-D', next, 'leaves'], { stdio: 'ignore' });
    renameSync(next, file);
    server.reloadUsers(true);
    await run(url, [
      { req: withAuth('/leaves/?create=true', 'leaves', 'pw-leaves'), want: [code(401)] },
      { req: withAuth('/stays/?create=true', 'stays', 'pw-stays'), want: [code(200)] },
    ]);
  });

  it('takes the user from the proxy header when asked, and refuses requests without it', async () => {
    const { url, events } = await startServer({ noAuth: false, proxyAuthUsername: 'X-Forwarded-User', privateRepos: true });
    await run(url, [
      { req: post('/anna/?create=true', '', { 'X-Forwarded-User': 'anna' }), want: [code(200)] },
      { req: post('/ben/?create=true', '', { 'X-Forwarded-User': 'anna' }), want: [code(403)] },
      { req: post('/anna/?create=true'), want: [code(401)] },
    ]);
    expect(events[0]?.user).toBe('anna');
  });
});

describe('private repositories and per-user policy', () => {
  it('lets a user reach only folders of their own name; the maintenance user reaches all', async () => {
    const file = htpasswdFile([
      ['alice', 'a'],
      ['admin', 'm'],
    ]);
    const users = new Map([['admin', { maintenance: true }]]);
    const { url } = await startServer({ noAuth: false, htpasswdFile: file, privateRepos: true, users });
    await run(url, [
      { req: withAuth('/alice/?create=true', 'alice', 'a'), want: [code(200)] },
      { req: withAuth('/alice/laptop/?create=true', 'alice', 'a'), want: [code(200)] },
      { req: withAuth('/?create=true', 'alice', 'a'), want: [code(403)] },
      { req: withAuth('/bob/?create=true', 'alice', 'a'), want: [code(403)] },
      { req: withAuth('/alicex/?create=true', 'alice', 'a'), want: [code(403)] },
      { req: withAuth('/Alice/?create=true', 'alice', 'a'), want: [code(403)] },
      { req: withAuth('/bob/?create=true', 'admin', 'm'), want: [code(200)] },
      { req: withAuth('/?create=true', 'admin', 'm'), want: [code(200)] },
    ]);
  });

  it('applies per-user append-only, and lets the maintenance user delete where others may not', async () => {
    const file = htpasswdFile([
      ['kid', 'k'],
      ['parent', 'p'],
      ['admin', 'm'],
    ]);
    const users = new Map([
      ['parent', { appendOnly: false }],
      ['admin', { maintenance: true }],
    ]);
    const { url } = await startServer({ noAuth: false, htpasswdFile: file, appendOnly: true, users });
    const objects = [makeObject(), makeObject()];
    const as = (user: string, password: string, method: string, path: string, body?: Buffer) => ({
      method,
      path,
      body,
      headers: basic(user, password),
    });
    await run(url, [
      { req: as('kid', 'k', 'POST', '/?create=true'), want: [code(200)] },
      ...objects.map(({ id, data }) => ({ req: as('kid', 'k', 'POST', `/snapshots/${id}`, data), want: [code(200)] })),
      { req: as('kid', 'k', 'DELETE', `/snapshots/${objects[0]!.id}`), want: [code(403)] },
      { req: as('parent', 'p', 'DELETE', `/snapshots/${objects[0]!.id}`), want: [code(200)] },
      { req: as('admin', 'm', 'DELETE', `/snapshots/${objects[1]!.id}`), want: [code(200)] },
    ]);
  });
});
