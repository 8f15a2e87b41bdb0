import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Authenticator } from '../../server/auth.js';
import { addUser, basic, htpasswdFile } from '../helpers/htpasswd.js';
import { startServer } from '../helpers/running-server.js';
import { hasTool } from '../helpers/tools.js';

interface Attempt {
  status: number;
  text: string;
  ms: number;
  doneAt: number;
}

/** One login from a chosen local address (127.0.0.0/8 is all this machine), on a fresh connection unless an agent is given. */
function attempt(port: number, localAddress: string, user: string, password: string, agent: Agent | false = false): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: `/${user}/?create=true`, headers: basic(user, password), agent }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - started, doneAt: performance.now() }));
    })
      .on('error', reject)
      .end();
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

describe.skipIf(!hasTool('htpasswd'))('authentication under attack', () => {
  it('wrong passwords for one login do not lock out another login, or the right password, from the same address', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([
      ['kid', 'right'],
      ['mum', 'hers'],
    ]);
    const { port } = await startServer({ noAuth: false, htpasswdFile: file });
    const shared = '127.0.0.3';
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => attempt(port, shared, 'kid', `guess-${i}`)));
    expect(guesses.map((guess) => guess.status)).toEqual(Array(8).fill(401));
    expect(Math.max(...guesses.map((guess) => guess.ms))).toBeGreaterThanOrEqual(250);
    // The same NAT address: another login is not slowed down or refused, and kid's right password is accepted.
    expect((await attempt(port, shared, 'mum', 'hers')).status).toBe(200);
    expect((await attempt(port, shared, 'kid', 'right')).status).toBe(200);
    // Unknown user names count per address: probing them does not lock out the family either.
    await Promise.all(Array.from({ length: 6 }, (_, i) => attempt(port, '127.0.0.4', `nobody${i}`, 'x')));
    expect((await attempt(port, '127.0.0.4', 'mum', 'hers')).status).toBe(200);
  });

  it('slows failures of unknown user names by the same rule as those of existing ones, so the waits tell no names', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([]);
    addUser(file, 'anna', 'right', 'B', 5);
    const { port } = await startServer({ noAuth: false, htpasswdFile: file });
    const prober = '127.0.5.1';
    for (let i = 0; i < 6; i++) expect((await attempt(port, prober, `nobody${i}`, 'x')).status).toBe(401);
    // After failures of other names from this address, a new unknown name and an existing one get the same answer, with no wait.
    const unknown = await attempt(port, prober, 'nobody-else', 'x');
    const known = await attempt(port, prober, 'anna', 'x');
    expect([unknown.status, unknown.text]).toEqual([401, 'wrong user name or password\n']);
    expect([known.status, known.text]).toEqual([unknown.status, unknown.text]);
    // Repeated failures of one name slow down alike whether the name exists or not.
    const answers = async (user: string) => {
      const texts: string[] = [];
      for (let i = 0; i < 5; i++) texts.push((await attempt(port, '127.0.5.2', user, `guess-${i}`)).text);
      return texts;
    };
    const ghost = await answers('ghost');
    expect(ghost.at(-1)).toBe('wrong user name or password; after 5 failed logins of this name from your address, this answer waited 0.5 s\n');
    expect(await answers('anna')).toEqual(ghost);
  });

  it('answers an unknown user as slowly as a known one with a wrong password (the stand-in hash has the file’s cost)', { timeout: 60_000 }, async () => {
    // Apache's htpasswd -B writes cost 5 by default; the stand-in must not be a slower cost 10.
    const file = htpasswdFile([]);
    for (const user of ['anna', 'ben', 'carl']) addUser(file, user, 'pw', 'B', 5);
    const { port } = await startServer({ noAuth: false, htpasswdFile: file });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const known: number[] = [];
    const unknown: number[] = [];
    // Two tries per address and user, so that no penalty delay comes into it.
    for (let round = 0; round < 12; round++) {
      const address = `127.0.2.${round + 1}`;
      for (let i = 0; i < 2; i++) {
        known.push((await attempt(port, address, 'anna', `wrong-${i}`)).ms);
        unknown.push((await attempt(port, address, 'zed', `wrong-${i}`)).ms);
      }
    }
    expect(median(unknown)).toBeLessThan(median(known) * 3 + 10);
  });

  it('keeps serving a logged-in client while many new addresses send passwords at once', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([['anna', 'right']]);
    const { port } = await startServer({ noAuth: false, htpasswdFile: file });
    // Like restic, the logged-in client keeps its connection open.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await attempt(port, '127.0.0.1', 'anna', 'right', keepAlive)).status).toBe(200);
    const flood = Array.from({ length: 16 }, (_, i) => attempt(port, `127.0.3.${i + 1}`, `stranger${i}`, 'guess'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const cached = await attempt(port, '127.0.0.1', 'anna', 'right', keepAlive);
    keepAlive.destroy();
    const answered = await Promise.all(flood);
    expect(cached.status).toBe(200);
    expect(answered.every((one) => one.status === 401)).toBe(true);
    // The cached login is answered at once (bcrypt runs off the main thread), not after the sixteen checks.
    expect(answered.filter((one) => one.doneAt < cached.doneAt).length).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!hasTool('htpasswd'))('password checks under a flood from fresh addresses', () => {
  afterEach(() => vi.useRealTimers());

  it('checks a login verified within the day before waiting checks from fresh addresses, even in a full network', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([['anna', 'right']]);
    const { port } = await startServer({ noAuth: false, htpasswdFile: file });
    const family = '127.0.6.100';
    expect((await attempt(port, family, 'anna', 'right')).status).toBe(200);
    // Two minutes on, the one-minute cache is over: anna's next login needs bcrypt again.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * 60_000);
    const flood = Array.from({ length: 16 }, (_, i) => attempt(port, `127.0.6.${i + 1}`, `stranger${i}`, 'guess'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const login = await attempt(port, family, 'anna', 'right');
    const answered = await Promise.all(flood);
    expect(login.status).toBe(200);
    expect(answered.map((one) => one.text)).toEqual(Array(16).fill('wrong user name or password\n'));
    // At most the check running when anna came, and one that started as she arrived, went first.
    expect(answered.filter((one) => one.doneAt < login.doneAt).length).toBeLessThanOrEqual(2);
  });

  it('refuses logins beyond the waiting checks allowed per network and per address at once, without checking them', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([['anna', 'right']]);
    const { port } = await startServer({ noAuth: false, htpasswdFile: file });
    const network = Array.from({ length: 16 }, (_, i) => attempt(port, `127.0.7.${i + 1}`, 'anna', `guess-${i}`));
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The right password, refused: it was never checked.
    const refused = await attempt(port, '127.0.7.17', 'anna', 'right');
    expect([refused.status, refused.text]).toEqual([
      401,
      'too many logins from your network (127.0.7.0/24) are waiting for a password check; this login was not checked: try again in a minute\n',
    ]);
    // Another network is not held up by this one.
    expect((await attempt(port, '127.0.8.1', 'anna', 'right')).status).toBe(200);
    expect((await Promise.all(network)).every((one) => one.status === 401 && one.text.startsWith('wrong user name or password'))).toBe(true);
    const oneAddress = await Promise.all(Array.from({ length: 6 }, (_, i) => attempt(port, '127.0.9.1', 'anna', `guess-${i}`)));
    const texts = oneAddress.map((one) => one.text);
    expect(texts.filter((text) => text.startsWith('wrong user name or password')).length).toBeGreaterThanOrEqual(4);
    expect(texts).toContain('too many logins from your address are waiting for a password check; this login was not checked: try again in a minute\n');
  });
});

describe('remembered failures', () => {
  afterEach(() => vi.useRealTimers());

  it('are bounded in number and forgotten with age', { timeout: 60_000 }, async () => {
    const file = htpasswdFile([['anna', 'pw', 's']]);
    const auth = new Authenticator(file, () => undefined);
    try {
      const wrong = basic('someone', 'wrong').Authorization;
      for (let i = 0; i < 10_050; i++) await auth.authenticate(wrong, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
      expect(auth.rememberedFailures).toBe(10_000);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 11 * 60_000);
      await auth.authenticate(wrong, '192.0.2.1');
      expect(auth.rememberedFailures).toBe(1);
    } finally {
      auth.close();
    }
  });
});
