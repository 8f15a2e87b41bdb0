/**
 * `npm run bench`: throughput and memory of the REST server on this machine,
 * against the raw disk and against restic's local backend. Prints figures;
 * it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../server/htpasswd.js';
import { call, peakRss, startServer, timed } from './tools.js';

const PACKS = 32;
const PACK_SIZE = 16 << 20;
const CONNECTIONS = 4;
/** The disk of a shared machine is noisy: raw and server runs alternate, and medians are shown. */
const ROUNDS = 3;
const TREE_BYTES = 1 << 30;
const TREE_FILE = 32 << 20;
const MB = 1e6;

const work = mkdtempSync(join(tmpdir(), 'rts-bench-'));
const base = randomBytes(PACK_SIZE);

/** Pack i: the shared random bytes with its number in front, so every pack differs. */
function pack(i: number): Buffer {
  const data = Buffer.from(base);
  data.writeUInt32BE(i, 0);
  return data;
}
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function rawDisk(round: number): Promise<number> {
  const folder = join(work, `raw${round}`);
  mkdirSync(folder);
  return timed(() =>
    inParallel(PACKS, async (i) => {
      const handle = await open(join(folder, String(i)), 'wx', 0o600);
      await handle.writeFile(pack(i));
      await handle.sync();
      await handle.close();
    }),
  );
}

function restic(args: string[]): Promise<number> {
  return timed(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn('restic', ['--no-cache', '--quiet', ...args], {
          env: { PATH: process.env.PATH, HOME: work, RESTIC_PASSWORD: 'bench' },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`restic ${args[0]} exited ${code}`))));
        child.on('error', reject);
      }),
  );
}

/**
 * The same uploads, small objects (where a per-request cost shows most), to
 * a server without authentication and to one with a bcrypt (cost 10) user,
 * in alternating rounds: the credential cache must make the difference small.
 * Both servers are their own processes, apart from the one whose memory is measured.
 */
async function compareAuth(): Promise<void> {
  const openDir = join(work, 'open');
  const dataDir = join(work, 'auth');
  mkdirSync(openDir);
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, '.htpasswd'), `bench:${await hashPassword('bench-password')}\n`);
  const openServer = await startServer(openDir);
  const { child, port } = await startServer(dataDir, []);
  const openPort = openServer.port;
  const openAgent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const login = { Authorization: `Basic ${Buffer.from('bench:bench-password').toString('base64')}` };
  const objects = 2000;
  const body = randomBytes(4096);
  const run = async (targetPort: number, targetAgent: Agent, headers: Record<string, string> | undefined, repo: string) => {
    await call(targetPort, targetAgent, 'POST', `/${repo}/?create=true`, undefined, headers);
    const seconds = await timed(() =>
      inParallel(objects, async (i) => {
        const data = Buffer.concat([Buffer.from(`${repo}-${i}`), body]);
        await call(targetPort, targetAgent, 'POST', `/${repo}/index/${sha256(data)}`, data, headers);
      }),
    );
    return objects / seconds;
  };
  const open: number[] = [];
  const authed: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    open.push(await run(openPort, openAgent, undefined, `open${round}`));
    authed.push(await run(port, agent, login, `authed${round}`));
  }
  const list = (rates: number[]) => rates.map((rate) => rate.toFixed(0)).join(', ');
  console.log(`4 KiB uploads, --no-auth:         ${median(open).toFixed(0)} /s  (runs: ${list(open)})`);
  console.log(
    `4 KiB uploads, bcrypt user:        ${median(authed).toFixed(0)} /s  (runs: ${list(authed)})  ${(median(authed) / median(open)).toFixed(2)}x no-auth`,
  );
  agent.destroy();
  openAgent.destroy();
  child.kill('SIGTERM');
  openServer.child.kill('SIGTERM');
}

async function main(): Promise<void> {
  const total = PACKS * PACK_SIZE;
  console.log(`Benchmark: ${PACKS} packs x ${PACK_SIZE >> 20} MiB over ${CONNECTIONS} keep-alive connections, data in ${work}`);

  const dataDir = join(work, 'server');
  mkdirSync(dataDir);
  const { child, port } = await startServer(dataDir);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const raw: number[] = [];
  const up: number[] = [];
  const down: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raw.push(total / MB / (await rawDisk(round)));
    const repo = `/bench${round}`;
    await call(port, agent, 'POST', `${repo}/?create=true`);
    const ids = Array.from({ length: PACKS }, (_, i) => sha256(pack(round * PACKS + i)));
    const uploadSeconds = await timed(() =>
      inParallel(PACKS, (i) => call(port, agent, 'POST', `${repo}/data/${ids[i]}`, pack(round * PACKS + i)).then(() => undefined)),
    );
    up.push(total / MB / uploadSeconds);
    const downloadSeconds = await timed(() =>
      inParallel(PACKS, async (i) => {
        const body = await call(port, agent, 'GET', `${repo}/data/${ids[i]}`);
        if (sha256(body) !== ids[i]) throw new Error(`pack ${i} came back different`);
      }),
    );
    down.push(total / MB / downloadSeconds);
  }
  const rawRate = median(raw);
  const uploadRate = median(up);
  const list = (rates: number[]) => rates.map((rate) => rate.toFixed(0)).join(', ');
  console.log(`raw disk (Node write + fsync):    ${rawRate.toFixed(0)} MB/s  (runs: ${list(raw)})`);
  console.log(`server upload (SHA-256 verified): ${uploadRate.toFixed(0)} MB/s  (runs: ${list(up)})  ${(uploadRate / rawRate).toFixed(2)}x raw disk`);
  console.log(`server download (verified):       ${median(down).toFixed(0)} MB/s  (runs: ${list(down)})`);
  await compareAuth();
  console.log(`server peak RSS:                  ${(peakRss(child.pid as number) / MB).toFixed(0)} MB`);

  const tree = join(work, 'tree');
  mkdirSync(tree);
  for (let i = 0; i < TREE_BYTES / TREE_FILE; i++) writeFileSync(join(tree, `file${i}.bin`), randomBytes(TREE_FILE));
  // Two rounds in opposite orders, so neither side always follows the other's disk writeback.
  const local: number[] = [];
  const rest: number[] = [];
  for (const [round, order] of [['local', 'rest'], ['rest', 'local']].entries()) {
    for (const backend of order) {
      const repo = backend === 'local' ? join(work, `local-repo${round}`) : `rest:http://127.0.0.1:${port}/restic${round}/`;
      await restic(['--repo', repo, 'init']);
      (backend === 'local' ? local : rest).push(await restic(['--repo', repo, 'backup', tree]));
    }
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const seconds = (values: number[]) => values.map((value) => value.toFixed(1)).join(', ');
  console.log(`restic backup of ${TREE_BYTES >> 30} GiB, local backend: ${mean(local).toFixed(1)} s  (runs: ${seconds(local)})`);
  console.log(
    `restic backup of ${TREE_BYTES >> 30} GiB, this server:   ${mean(rest).toFixed(1)} s  (runs: ${seconds(rest)})  ${(mean(rest) / mean(local)).toFixed(2)}x local`,
  );
  console.log(`server peak RSS after restic:     ${(peakRss(child.pid as number) / MB).toFixed(0)} MB`);

  child.kill('SIGTERM');
  agent.destroy();
  rmSync(work, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
