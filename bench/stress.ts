// npm run stress [-- --minutes N]: the long fault run. It prints figures and ends with the
// number of objects lost, which must be zero; it fails (exit 1) when a phase fails.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashPassword } from '../server/htpasswd.js';
import { startServer, type Started } from './tools.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' } } });
const MINUTES = Number(values.minutes);
const MB = 1e6;
const work = mkdtempSync(join(tmpdir(), 'rts-stress-'));
const data = join(work, 'data');
mkdirSync(data);
const USER = 'family';
const PASSWORD = randomBytes(12).toString('hex');
/** A family computer that logged in earlier in the day, and one that never did. */
const LAPTOP = { user: 'laptop', password: randomBytes(12).toString('hex') };
const NEWCOMER = { user: 'newcomer', password: randomBytes(12).toString('hex') };
const figures: [string, string][] = [];
const say = (name: string, value: string) => {
  figures.push([name, value]);
  console.log(`${name}: ${value}`);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function restic(repo: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('restic', ['-r', repo, '--no-cache', '--quiet', ...args], {
      env: { PATH: process.env.PATH, HOME: work, RESTIC_PASSWORD: 'stress' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

async function resticOk(repo: string, args: string[]): Promise<void> {
  const result = await restic(repo, args);
  if (result.code !== 0) throw new Error(`restic ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-500)}`);
}

function sourceTree(name: string, files: number, size: number): string {
  const root = join(work, 'sources', name);
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(root, `f${i}.bin`), randomBytes(size));
  return root;
}

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

function upload(port: number, agent: Agent, path: string, body: Buffer, auth: string, localAddress?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent, localAddress, headers: { Authorization: auth } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One login on a fresh connection from `localAddress`: its status, its answer's text and how long it took. */
function login(port: number, localAddress: string, auth: string): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/logins/?create=true', agent: false, localAddress, headers: { Authorization: auth } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const repoUrl = (port: number, name: string) => `rest:http://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}/`;

/** Four clients back up while a fifth checks, in three runs: no error, memory sampled every second. */
async function manyClients(port: number, pid: number): Promise<void> {
  const names = ['anna', 'bob', 'carla', 'dan'];
  await resticOk(repoUrl(port, 'reader'), ['init']);
  await resticOk(repoUrl(port, 'reader'), ['backup', sourceTree('reader', 16, 1 << 20)]);
  for (const name of names) await resticOk(repoUrl(port, name), ['init']);
  const peaks: number[] = [];
  let backups = 0;
  for (let run = 0; run < 3; run++) {
    const until = Date.now() + (MINUTES * 60_000) / 3;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 1000);
    const client = async (name: string) => {
      for (let round = 0; Date.now() < until; round++) {
        await resticOk(repoUrl(port, name), ['backup', sourceTree(`${name}-${run}-${round}`, 8, 2 << 20)]);
        backups++;
      }
    };
    const reader = async () => {
      while (Date.now() < until) await resticOk(repoUrl(port, 'reader'), ['check', '--read-data']);
    };
    await Promise.all([...names.map(client), reader()]);
    clearInterval(sampler);
    peaks.push(peak);
  }
  say('many clients', `${backups} restic backups by 4 clients with a reader checking, over ${MINUTES} min, 0 errors`);
  say('server RSS peak per run', peaks.map((peak) => `${(peak / MB).toFixed(0)} MB`).join(', '));
}

/** A correct client's upload rate alone, then while another address sends 1000 wrong passwords. */
async function passwordFlood(port: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  const body = randomBytes(1 << 20);
  const rate = async (seconds: number) => {
    let bytes = 0;
    const until = Date.now() + seconds * 1000;
    const worker = async () => {
      while (Date.now() < until) {
        const object = Buffer.concat([body, randomBytes(16)]);
        const id = createHash('sha256').update(object).digest('hex');
        if ((await upload(port, agent, `/flood/data/${id}`, object, basic(USER, PASSWORD))) !== 200) throw new Error('a correct upload failed');
        bytes += object.length;
      }
    };
    await Promise.all([worker(), worker()]);
    return bytes / seconds;
  };
  await upload(port, agent, '/flood/?create=true', Buffer.alloc(0), basic(USER, PASSWORD));
  const alone = await rate(8);
  const floodAgent = new Agent({ keepAlive: true, maxSockets: 50, localAddress: '127.0.0.2' });
  let refused = 0;
  const flood = (async () => {
    await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const status = await upload(port, floodAgent, '/flood/config', Buffer.alloc(0), basic(USER, `wrong-${i}`), '127.0.0.2').catch(() => 0);
        if (status === 401) refused++;
      }),
    );
  })();
  const during = await rate(8);
  await flood;
  say('password flood', `1000 wrong passwords from 127.0.0.2 (${refused} answered 401); the correct client kept ${(during / alone).toFixed(2)}x of its rate (${(during / MB).toFixed(0)} of ${(alone / MB).toFixed(0)} MB/s); target 0.8x`);
}

/**
 * 64 connections at a time send wrong passwords, each from an address never
 * seen before and in a /24 of its own (as an IPv6 attacker can), while the
 * laptop, verified more than a minute ago (out of the cache, so bcrypt runs
 * again), and a computer that never logged in before try to log in.
 */
async function freshAddressFlood(port: number, laptopVerifiedAt: number): Promise<void> {
  await sleep(Math.max(0, laptopVerifiedAt + 61_000 - Date.now()));
  let next = 0;
  let stop = false;
  let checked = 0;
  let refused = 0;
  const address = (n: number) => `127.${1 + (n & 127)}.${(n >> 7) & 255}.${1 + ((n >> 15) & 127)}`;
  const flooder = async () => {
    while (!stop) {
      const n = next++;
      const answer = await login(port, address(n), basic('nobody', `guess-${n}`)).catch(() => undefined);
      if (answer?.text.startsWith('wrong user name or password')) checked++;
      else if (answer?.text.startsWith('too many logins')) refused++;
    }
  };
  const flood = Promise.all(Array.from({ length: 64 }, flooder));
  await sleep(2000);
  const laptop = await login(port, '127.0.0.1', basic(LAPTOP.user, LAPTOP.password));
  const newcomer = await login(port, '127.0.0.1', basic(NEWCOMER.user, NEWCOMER.password));
  stop = true;
  await flood;
  if (laptop.status !== 200) throw new Error(`the laptop's login during the flood got ${laptop.status}: ${laptop.text}`);
  say(
    'fresh-address flood',
    `64 connections from ${next} fresh addresses (${checked} wrong passwords checked, ${refused} refused unchecked); ` +
      `the laptop verified earlier logged in in ${(laptop.ms / 1000).toFixed(2)} s (target < 1 s); ` +
      `a computer never seen before ${newcomer.status === 200 ? 'logged in' : `was refused unchecked (${newcomer.status}, the waiting checks being full)`} in ${(newcomer.ms / 1000).toFixed(2)} s`,
  );
}

/** A 128 MiB upload at about 1 MB/s completes while another client's uploads go through. */
async function slowClient(port: number): Promise<void> {
  const object = randomBytes(128 << 20);
  const id = createHash('sha256').update(object).digest('hex');
  const agent = new Agent({ keepAlive: true });
  if ((await upload(port, agent, '/slow/?create=true', Buffer.alloc(0), basic(USER, PASSWORD))) !== 200) throw new Error('cannot create the repository');
  const started = Date.now();
  const slow = new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: `/slow/data/${id}`, headers: { Authorization: basic(USER, PASSWORD), 'Content-Length': object.length } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    let sent = 0;
    const tick = setInterval(() => {
      const piece = object.subarray(sent, sent + 100_000);
      sent += piece.length;
      req.write(piece);
      if (sent >= object.length) {
        clearInterval(tick);
        req.end();
      }
    }, 100);
  });
  let others = 0;
  while (Date.now() - started < 10_000) {
    const small = randomBytes(64 << 10);
    const status = await upload(port, agent, `/slow/data/${createHash('sha256').update(small).digest('hex')}`, small, basic(USER, PASSWORD));
    if (status !== 200) throw new Error(`another client's upload got ${status} during the slow upload`);
    others++;
  }
  const status = await slow;
  if (status !== 200) throw new Error(`the slow upload got ${status}`);
  say('slow client', `128 MiB at ${(object.length / ((Date.now() - started) / 1000) / MB).toFixed(2)} MB/s completed; meanwhile another client made ${others} uploads in 10 s, all answered 200`);
}

/**
 * kill -9 at random moments of a backup, five times, the server coming back on
 * the same port at once (restic retries); after each run the repository checks
 * clean; then the backup completes.
 */
async function crashLoop(args: string[], port: number): Promise<Started> {
  let server = await startServer(data, args, port);
  await resticOk(repoUrl(port, 'crash'), ['init']);
  const source = sourceTree('crash', 40, 4 << 20);
  let kills = 0;
  let completed = 0;
  for (; kills < 5; kills++) {
    const backup = restic(repoUrl(port, 'crash'), ['backup', source]);
    await sleep(300 + Math.random() * 2000);
    server.child.kill('SIGKILL');
    await new Promise((resolve) => server.child.once('exit', resolve));
    server = await startServer(data, args, port);
    if ((await backup).code === 0) completed++;
    await resticOk(repoUrl(port, 'crash'), ['unlock']);
    await resticOk(repoUrl(port, 'crash'), ['check']);
  }
  await resticOk(repoUrl(port, 'crash'), ['backup', source]);
  say('crash loop', `${kills} kill -9 during backups (${completed} of those backups still completed by retrying); each checked clean; a final backup completed`);
  return server;
}

/** The fault tests again at ten times their size; their own lines carry the figures. */
function scaledFaultTests(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/faults/malformed.test.ts', 'test/faults/aborts.test.ts'], {
      env: { ...process.env, FAULT_SCALE: '10' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => {
      const fuzz = /fuzz seed (\d+): (\d+) inputs/.exec(out);
      const aborts = /abort seed (\d+): (\d+) connections reset/.exec(out);
      if (code !== 0 || !fuzz || !aborts) return reject(new Error(`the scaled fault tests failed:\n${out.slice(-3000)}`));
      say('malformed requests', `${fuzz[2]} inputs (seed ${fuzz[1]}): no crash, no 5xx, the canary untouched`);
      say('client aborts', `${aborts[2]} connections reset mid-transfer (seed ${aborts[1]}): no temp file, no leaked descriptor`);
      resolve();
    });
  });
}

/** Every object under the data folder must hash to its name; each repository must pass check --read-data. */
async function objectsLost(port: number): Promise<number> {
  let lost = 0;
  let objects = 0;
  for (const entry of readdirSync(data, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/^[0-9a-f]{64}$/.test(entry.name) || basename(entry.parentPath) === 'keys') continue;
    objects++;
    if (createHash('sha256').update(readFileSync(join(entry.parentPath, entry.name))).digest('hex') !== entry.name) lost++;
  }
  for (const name of ['anna', 'bob', 'carla', 'dan', 'reader', 'crash']) {
    if ((await restic(repoUrl(port, name), ['check', '--read-data'])).code !== 0) lost++;
  }
  say('objects checked', `${objects} objects hash to their names; 6 repositories pass check --read-data`);
  return lost;
}

async function main(): Promise<void> {
  const htpasswd = join(work, 'htpasswd');
  const users = [{ user: USER, password: PASSWORD }, LAPTOP, NEWCOMER];
  const lines = await Promise.all(users.map(async ({ user, password }) => `${user}:${await hashPassword(password)}\n`));
  writeFileSync(htpasswd, lines.join(''));
  const args = ['--htpasswd-file', htpasswd];
  let server = await startServer(data, args);
  try {
    const laptopVerifiedAt = Date.now();
    const laptop = await login(server.port, '127.0.0.1', basic(LAPTOP.user, LAPTOP.password));
    if (laptop.status !== 200) throw new Error(`the laptop's first login got ${laptop.status}: ${laptop.text}`);
    await manyClients(server.port, server.child.pid as number);
    await freshAddressFlood(server.port, laptopVerifiedAt);
    await passwordFlood(server.port);
    await slowClient(server.port);
    const port = server.port;
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    server = await crashLoop(args, port);
    await scaledFaultTests();
    const lost = await objectsLost(server.port);
    say('objects lost', String(lost));
    if (lost > 0) process.exitCode = 1;
  } finally {
    server.child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`stress failed: ${error.message}`);
  process.exitCode = 1;
});
