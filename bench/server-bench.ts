/**
 * `npm run bench`: this server beside restic's Go rest-server on the same
 * machine, in the same run, alternating: upload and download throughput with
 * the CPU each server process spends per GB, small uploads, authentication
 * against none, both again over TLS, full garbage collections, memory, the GUI's answers while
 * the app receives uploads (see gui-load.ts), the integrity check's reading
 * rate and what it costs uploads (integrity-load.ts), the offsite copy
 * to a folder and over SFTP against rclone by hand, and what a copy costs
 * uploads (offsite-load.ts), a folder downloaded through the GUI against
 * `restic restore` by hand and the first page of a folder of 100,000 files
 * (restore-load.ts), retention of a repository by the app against restic
 * forget --prune by hand (retention-load.ts, BENCH_RETENTION_MB, 1024 by
 * default), and restic's own backup and restore over HTTP and over TLS.
 * Every server lives for the whole run and each comparison starts with a
 * warm-up round that is not counted: the app serves for days.
 * Give rest-server's binary in REST_SERVER; without it only our figures are
 * printed. BENCH_ONLY (a comma-separated list of http, auth, tls, gui,
 * integrity, offsite, restore, retention, restic) runs some of the phases.
 * Prints figures; it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { Agent as TlsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthority, issueServerCertificate } from '../main/control/tls/certificates.js';
import { hashPassword } from '../server/htpasswd.js';
import { guiUnderLoad, openApp, type Answers } from './gui-load.js';
import { integrityUnderLoad } from './integrity-load.js';
import { offsiteUnderLoad } from './offsite-load.js';
import { restoreFigures } from './restore-load.js';
import { retentionByAppAndByHand } from './retention-load.js';
import { call, cpuSeconds, inParallel, mainThreadCpuSeconds, median, packMaker, peakRss, sha256, startProcess, startServer, timed, type Started } from './tools.js';

const PACKS = 32;
const PACK_SIZE = 16 << 20;
const CONNECTIONS = 4;
/** The disk of a shared machine is noisy: the servers alternate, and medians are shown. */
const ROUNDS = 5;
const SMALL_OBJECTS = 2000;
const MB = 1e6;
const GB = 1e9;

const work = mkdtempSync(join(tmpdir(), 'rts-bench-'));
const pack = packMaker(PACK_SIZE);
const peerBinary = process.env.REST_SERVER;

interface Server {
  name: string;
  started: Started;
  /** Where it keeps the repositories. */
  folder: string;
  agent: Agent;
  headers?: Record<string, string>;
  /** Full garbage collections so far (ours, run with --trace-gc). */
  fullGcs?: () => number;
}

interface Figures {
  upload: number[];
  uploadCpu: number[];
  /** CPU per GB of the main thread alone (ours: the event loop, which reads and writes the sockets). */
  uploadMainCpu: number[];
  download: number[];
  downloadCpu: number[];
  downloadMainCpu: number[];
  small: number[];
  /** Full GCs during each phase, where counted. */
  gcs: { upload: number[]; download: number[]; small: number[] };
}

const emptyFigures = (): Figures => ({ upload: [], uploadCpu: [], uploadMainCpu: [], download: [], downloadCpu: [], downloadMainCpu: [], small: [], gcs: { upload: [], download: [], small: [] } });

/** Runs `task` and returns its seconds, the CPU seconds the server's process and its main thread spent meanwhile, and its full GCs (where counted). */
async function measured(server: Server, task: () => Promise<void>): Promise<{ seconds: number; cpu: number; mainCpu: number; gcs: number }> {
  const pid = server.started.child.pid as number;
  const before = cpuSeconds(pid);
  const mainBefore = mainThreadCpuSeconds(pid);
  const gcsBefore = server.fullGcs?.() ?? 0;
  const seconds = await timed(task);
  return { seconds, cpu: cpuSeconds(pid) - before, mainCpu: mainThreadCpuSeconds(pid) - mainBefore, gcs: (server.fullGcs?.() ?? 0) - gcsBefore };
}

/** One round against one server: 512 MiB of packs up and down (each verified by SHA-256), then small uploads; the repository is removed after. */
async function round(server: Server, figures: Figures, index: number): Promise<void> {
  const { port } = server.started;
  const repo = `/bench${index}`;
  const total = PACKS * PACK_SIZE;
  await call(port, server.agent, 'POST', `${repo}/?create=true`, undefined, server.headers);
  const ids = Array.from({ length: PACKS }, (_, i) => sha256(pack(index * PACKS + i)));
  const up = await measured(server, () =>
    inParallel(PACKS, CONNECTIONS, (i) => call(port, server.agent, 'POST', `${repo}/data/${ids[i]}`, pack(index * PACKS + i), server.headers).then(() => undefined)),
  );
  figures.upload.push(total / MB / up.seconds);
  figures.uploadCpu.push(up.cpu / (total / GB));
  figures.uploadMainCpu.push(up.mainCpu / (total / GB));
  figures.gcs.upload.push(up.gcs);
  const down = await measured(server, () =>
    inParallel(PACKS, CONNECTIONS, async (i) => {
      const body = await call(port, server.agent, 'GET', `${repo}/data/${ids[i]}`, undefined, server.headers);
      if (sha256(body) !== ids[i]) throw new Error(`pack ${i} came back different from ${server.name}`);
    }),
  );
  figures.download.push(total / MB / down.seconds);
  figures.downloadCpu.push(down.cpu / (total / GB));
  figures.downloadMainCpu.push(down.mainCpu / (total / GB));
  figures.gcs.download.push(down.gcs);
  const body = randomBytes(4096);
  const small = await measured(server, () =>
    inParallel(SMALL_OBJECTS, CONNECTIONS, async (i) => {
      const data = Buffer.concat([Buffer.from(`${index}-${i}`), body]);
      await call(port, server.agent, 'POST', `${repo}/index/${sha256(data)}`, data, server.headers);
    }),
  );
  figures.small.push(SMALL_OBJECTS / small.seconds);
  figures.gcs.small.push(small.gcs);
  rmSync(join(server.folder, repo), { recursive: true, force: true });
}

/**
 * A warm-up round each (not counted), then ROUNDS rounds against each
 * server, alternating which goes first so that neither always follows the
 * other's disk writeback.
 */
async function alternating(first: Server, second: Server | undefined): Promise<[Figures, Figures]> {
  for (const server of [first, second]) if (server) await round(server, emptyFigures(), ROUNDS);
  const figures: [Figures, Figures] = [emptyFigures(), emptyFigures()];
  for (let index = 0; index < ROUNDS; index++) {
    const order = index % 2 === 0 ? [first, second] : [second, first];
    for (const server of order) if (server) await round(server, figures[server === first ? 0 : 1], index);
  }
  return figures;
}

/** Runs restic (no cache, quiet) and returns its seconds. */
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

/** What restic's backup sends: a few large files and many small ones (about 400 MB). */
function makeTree(): string {
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'small'), { recursive: true });
  for (let i = 0; i < 8; i++) writeFileSync(join(tree, `large${i}.bin`), randomBytes(48 << 20));
  for (let i = 0; i < 2000; i++) writeFileSync(join(tree, 'small', `file${i}.txt`), randomBytes(8192));
  return tree;
}

const list = (values: number[], digits = 0) => values.map((value) => value.toFixed(digits)).join(', ');
const pad = (text: string) => text.padEnd(34);

/** One figure: our median and runs, the other's, and ours divided by theirs. */
function line(label: string, ours: number[], other: number[] | undefined, unit: string, digits = 0, otherName = 'rest-server', ourName = 'ours'): void {
  const otherText = other ? `  ${otherName} ${median(other).toFixed(digits)} ${unit} (runs: ${list(other, digits)})  ratio ${(median(ours) / median(other)).toFixed(2)}x` : '';
  console.log(`${pad(label)} ${ourName} ${median(ours).toFixed(digits)} ${unit} (runs: ${list(ours, digits)})${otherText}`);
}

/** Our rounds' figures beside rest-server's, when it ran; `how` names the rounds (e.g. ' over TLS'). */
function printRounds(ours: Figures, peer: Figures | undefined, how = ''): void {
  line(`upload${how} (SHA-256 verified)`, ours.upload, peer?.upload, 'MB/s');
  line(`upload CPU per GB${how}`, ours.uploadCpu, peer?.uploadCpu, 's', 2);
  line(`  of it our main thread`, ours.uploadMainCpu, undefined, 's', 2);
  line(`download${how} (verified)`, ours.download, peer?.download, 'MB/s');
  line(`download CPU per GB${how}`, ours.downloadCpu, peer?.downloadCpu, 's', 2);
  line(`  of it our main thread`, ours.downloadMainCpu, undefined, 's', 2);
  line(`4 KiB uploads${how}`, ours.small, peer?.small, '/s');
}

/** The phases BENCH_ONLY may name; all of them run without it. */
const PHASES = ['http', 'auth', 'tls', 'gui', 'integrity', 'offsite', 'restore', 'retention', 'restic'];
/** The phases run by the app in headless mode. */
const APP_PHASES = ['gui', 'integrity', 'offsite', 'restore', 'retention'];

function chosenPhases(): Set<string> {
  const named = process.env.BENCH_ONLY?.split(',').map((name) => name.trim()).filter((name) => name !== '') ?? PHASES;
  const unknown = named.filter((name) => !PHASES.includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names ${unknown.join(', ')}: the phases are ${PHASES.join(', ')}.`);
  return new Set(named);
}

/** Our server and rest-server (when given), both plain HTTP or both TLS, alive for the whole run. */
interface Pair {
  ours: Server;
  peer?: Server;
  scheme: 'http' | 'https';
  /** The certificate restic is told to trust, over TLS. */
  cacert?: string;
}

async function plainPair(): Promise<Pair> {
  mkdirSync(join(work, 'ours'));
  // --trace-gc prints one line per collection: the full ones (Mark-Compact) are counted.
  const started = await startServer(join(work, 'ours'), ['--no-auth'], 0, ['--trace-gc']);
  const ours: Server = {
    name: 'ours',
    started,
    folder: join(work, 'ours'),
    agent: new Agent({ keepAlive: true, maxSockets: CONNECTIONS }),
    fullGcs: () => (started.output().match(/Mark-Compact/g) ?? []).length,
  };
  if (!peerBinary) return { ours, scheme: 'http' };
  mkdirSync(join(work, 'peer'));
  const folder = join(work, 'peer');
  const peer = { name: 'rest-server', folder, started: await startProcess(peerBinary, ['--path', folder, '--no-auth', '--listen', '127.0.0.1:0']), agent: new Agent({ keepAlive: true, maxSockets: CONNECTIONS }) };
  return { ours, peer, scheme: 'http' };
}

/** Both servers over TLS, as the app serves restic, with the same certificate. */
async function tlsPair(): Promise<Pair> {
  const authority = await createAuthority('bench');
  const certificate = await issueServerCertificate(authority, { hostNames: ['localhost'], addresses: ['127.0.0.1'] });
  const certFile = join(work, 'tls-cert.pem');
  const keyFile = join(work, 'tls-key.pem');
  const cacert = join(work, 'tls-ca.pem');
  writeFileSync(certFile, certificate.certificatePem);
  writeFileSync(keyFile, certificate.keyPem, { mode: 0o600 });
  writeFileSync(cacert, authority.certificatePem);
  const flags = ['--no-auth', '--tls', '--tls-cert', certFile, '--tls-key', keyFile];
  const agent = () => new TlsAgent({ keepAlive: true, maxSockets: CONNECTIONS, ca: authority.certificatePem });
  const ourFolder = join(work, 'ours-tls');
  mkdirSync(ourFolder);
  const ours: Server = { name: 'ours over TLS', folder: ourFolder, started: await startServer(ourFolder, flags), agent: agent() };
  if (!peerBinary) return { ours, scheme: 'https', cacert };
  const peerFolder = join(work, 'peer-tls');
  mkdirSync(peerFolder);
  const peer = { name: 'rest-server over TLS', folder: peerFolder, started: await startProcess(peerBinary, ['--path', peerFolder, ...flags, '--listen', '127.0.0.1:0']), agent: agent() };
  return { ours, peer, scheme: 'https', cacert };
}

async function main(): Promise<void> {
  const phases = chosenPhases();
  console.log(`Benchmark: ${PACKS} packs x ${PACK_SIZE >> 20} MiB over ${CONNECTIONS} keep-alive connections, ${SMALL_OBJECTS} x 4 KiB uploads; data in ${work}; phases ${[...phases].join(', ')}`);
  if (!peerBinary) console.log('REST_SERVER is not set: the comparison with rest-server is skipped (give the path of its binary to compare).');
  const plain = await plainPair();
  const tls = await tlsPair();

  if (phases.has('http')) {
    const [ourFigures, peerFigures] = await alternating(plain.ours, plain.peer);
    printRounds(ourFigures, plain.peer ? peerFigures : undefined);
    const { gcs } = ourFigures;
    console.log(`${pad('full GCs (ours), per round')} upload ${list(gcs.upload)}; download ${list(gcs.download)}; 4 KiB uploads ${list(gcs.small)}`);
    console.log(`${pad('peak RSS')} ours ${(peakRss(plain.ours.started.child.pid as number) / MB).toFixed(0)} MB${plain.peer ? `  rest-server ${(peakRss(plain.peer.started.child.pid as number) / MB).toFixed(0)} MB` : ''}`);
  }
  if (phases.has('auth')) await compareAuth();
  if (phases.has('tls')) {
    const [ourFigures, peerFigures] = await alternating(tls.ours, tls.peer);
    printRounds(ourFigures, tls.peer ? peerFigures : undefined, ' over TLS');
  }
  if (APP_PHASES.some((phase) => phases.has(phase))) await appFigures(phases);
  if (phases.has('restic')) {
    const tree = makeTree();
    await resticRounds(plain, tree, '');
    await resticRounds(tls, tree, ' over TLS');
    console.log(`${pad('peak RSS after restic')} ours ${(peakRss(plain.ours.started.child.pid as number) / MB).toFixed(0)} MB, over TLS ${(peakRss(tls.ours.started.child.pid as number) / MB).toFixed(0)} MB`);
  }

  for (const server of [plain.ours, plain.peer, tls.ours, tls.peer]) {
    server?.agent.destroy();
    server?.started.child.kill('SIGTERM');
  }
  rmSync(work, { recursive: true, force: true });
}

/** The app as a person runs it: the GUI under uploads, the integrity check, the offsite copy, restores and retention (those of them chosen). */
async function appFigures(phases: Set<string>): Promise<void> {
  const app = await openApp(work);
  try {
    if (phases.has('gui')) {
      const gui = await guiUnderLoad(app);
      const answers = (figures: Answers) => `median ${figures.median.toFixed(1)}, p99 ${figures.p99.toFixed(1)}, max ${figures.max.toFixed(1)} ms (${figures.count} answers)`;
      console.log(`${pad('app with GUI, 4 uploads (TLS)')} ${gui.uploadMBps.toFixed(0)} MB/s, CPU per GB ${gui.cpuPerGb.toFixed(2)} s`);
      console.log(`${pad('  GUI state meanwhile')} ${answers(gui.state)}`);
      console.log(`${pad('  GUI in-memory call (event loop)')} ${answers(gui.inMemory)}`);
    }
    if (phases.has('integrity')) {
      const integrity = await integrityUnderLoad(app);
      line('app uploads during a check', integrity.uploadDuringCheckMBps, integrity.uploadAloneMBps, 'MB/s', 0, 'without');
      line('scrub when idle (its pass)', integrity.scrubMBps, integrity.diskReadMBps, 'MB/s', 0, 'disk read');
      line('  the scrub command, start to exit', integrity.scrubCommandMBps, integrity.diskReadMBps, 'MB/s', 0, 'disk read');
      if (!integrity.cacheDropped) console.log('  (the page cache could not be dropped: both reads may have come from memory)');
    }
    if (phases.has('offsite')) {
      const offsite = await offsiteUnderLoad(app);
      if (offsite) {
        const size = `${(offsite.bytes / MB).toFixed(0)} MB`;
        line(`offsite copy of ${size} to a folder`, offsite.folder.appMBps, offsite.folder.byHandMBps, 'MB/s', 0, 'rclone by hand');
        if (offsite.sftp) {
          line(`offsite copy of ${size} over SFTP`, offsite.sftp.appMBps, offsite.sftp.byHandMBps, 'MB/s', 0, 'rclone by hand');
          line('app uploads during an SFTP copy', offsite.uploadDuringCopyMBps, offsite.uploadAloneMBps, 'MB/s', 0, 'without');
        } else console.log("OpenSSH's sshd is not installed: the copy over SFTP is not measured.");
      } else console.log('rclone is not installed: the offsite copy is not measured.');
    }
    if (phases.has('restore')) {
      const restore = await restoreFigures(app);
      line(`download of ${(restore.folderBytes / MB).toFixed(0)} MB as .tar (GUI)`, restore.downloadMBps, restore.byHandMBps, 'MB/s', 0, 'restic restore by hand');
      line('  saved by the desktop app', restore.savedMBps, restore.byHandMBps, 'MB/s', 0, 'restic restore by hand');
      line('  the same .tar by hand', restore.dumpByHandMBps, restore.byHandMBps, 'MB/s', 0, 'restic restore by hand', 'restic dump');
      console.log(`${pad(`folder of ${restore.files} files`)} first page ${restore.firstPageMs.toFixed(0)} ms, next page ${restore.nextPageMs.toFixed(0)} ms; restic ls of it by hand ${restore.lsByHandMs.toFixed(0)} ms`);
      console.log(`${pad('  opened from its parent')} first page ${restore.aheadPageMs.toFixed(0)} ms, asked ${(restore.aheadAfterMs / 1000).toFixed(0)} s after the parent folder was shown`);
    }
    if (phases.has('retention')) {
      const retention = await retentionByAppAndByHand(app, work, Number(process.env.BENCH_RETENTION_MB ?? 1024));
      line(`retention of ${(retention.bytes / MB).toFixed(0)} MB (forget --prune)`, retention.appSeconds, retention.byHandSeconds, 's', 1, 'restic by hand');
      console.log(`${pad('  freed by the app')} ${(retention.appFreedBytes / MB).toFixed(0)} MB`);
    }
  } finally {
    await app.close();
  }
}

/**
 * restic's own backup of the tree into a new repository, then its restore
 * into an empty folder (both removed after), through each server of the pair: a warm-up round
 * (not counted), then ROUNDS alternating rounds. The server's CPU is counted
 * as well; a restored large file is compared with its source.
 */
async function resticRounds(pair: Pair, tree: string, how: string): Promise<void> {
  const servers = [pair.ours, pair.peer].filter((server) => server !== undefined);
  const figures = new Map(servers.map((server) => [server, { backup: [] as number[], backupCpu: [] as number[], restore: [] as number[], restoreCpu: [] as number[] }]));
  const target = join(work, 'restored');
  for (let index = -1; index < ROUNDS; index++) {
    const order = index % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const name = `restic${index + 1}`;
      const flags = ['--repo', `rest:${pair.scheme}://127.0.0.1:${server.started.port}/${name}/`, ...(pair.cacert ? ['--cacert', pair.cacert] : [])];
      await restic([...flags, 'init']);
      const backup = await measured(server, () => restic([...flags, 'backup', tree]).then(() => undefined));
      const restore = await measured(server, () => restic([...flags, 'restore', 'latest', '--target', target]).then(() => undefined));
      if (sha256(readFileSync(join(target, tree, 'large0.bin'))) !== sha256(readFileSync(join(tree, 'large0.bin')))) throw new Error(`restic restored a different file through ${server.name}`);
      rmSync(target, { recursive: true, force: true });
      rmSync(join(server.folder, name), { recursive: true, force: true });
      const kept = figures.get(server);
      if (index < 0 || !kept) continue;
      kept.backup.push(backup.seconds);
      kept.backupCpu.push(backup.cpu);
      kept.restore.push(restore.seconds);
      kept.restoreCpu.push(restore.cpu);
    }
  }
  const ours = figures.get(pair.ours);
  const peer = pair.peer ? figures.get(pair.peer) : undefined;
  if (!ours) return;
  line(`restic backup of 400 MB${how}`, ours.backup, peer?.backup, 's', 1);
  line('  server CPU', ours.backupCpu, peer?.backupCpu, 's', 2);
  line(`restic restore of 400 MB${how}`, ours.restore, peer?.restore, 's', 1);
  line('  server CPU', ours.restoreCpu, peer?.restoreCpu, 's', 2);
}

/**
 * Our server with a bcrypt (cost 10) user against the same without
 * authentication, alternating: the credential cache must make the difference small.
 */
async function compareAuth(): Promise<void> {
  const openDir = join(work, 'open');
  const authDir = join(work, 'auth');
  mkdirSync(openDir);
  mkdirSync(authDir);
  writeFileSync(join(authDir, '.htpasswd'), `bench:${await hashPassword('bench-password')}\n`);
  const open: Server = { name: 'no-auth', folder: openDir, started: await startServer(openDir), agent: new Agent({ keepAlive: true, maxSockets: CONNECTIONS }) };
  const authed: Server = {
    name: 'auth',
    folder: authDir,
    started: await startServer(authDir, []),
    agent: new Agent({ keepAlive: true, maxSockets: CONNECTIONS }),
    headers: { Authorization: `Basic ${Buffer.from('bench:bench-password').toString('base64')}` },
  };
  const [openFigures, authFigures] = await alternating(open, authed);
  line('upload, bcrypt user', authFigures.upload, openFigures.upload, 'MB/s', 0, 'no-auth');
  line('  CPU per GB', authFigures.uploadCpu, openFigures.uploadCpu, 's', 2, 'no-auth');
  line('download, bcrypt user', authFigures.download, openFigures.download, 'MB/s', 0, 'no-auth');
  line('  CPU per GB', authFigures.downloadCpu, openFigures.downloadCpu, 's', 2, 'no-auth');
  line('4 KiB uploads, bcrypt user', authFigures.small, openFigures.small, '/s', 0, 'no-auth');
  for (const server of [open, authed]) {
    server.agent.destroy();
    server.started.child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
