/**
 * Getting files back through the app: a folder downloaded as .tar through
 * the headless GUI's download route (restic dump, streamed), and saved as
 * the desktop app saves it (where its save dialog said), against
 * `restic restore` of the same folder run by hand, and against `restic dump`
 * of it by hand (what the app runs, without the app), alternating, page cache
 * dropped before each (where Linux lets us), after a warm-up round that is not
 * counted; and the first page of a folder of many files (restic ls, read and
 * sorted by the app), then the next page (from the app's listing kept in
 * memory), beside `restic ls` of that folder by hand; and its first page in
 * a second snapshot, opened a while after its parent folder was shown (the
 * app reads the subfolders of a folder shown ahead).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppState, LoginCreated, SnapshotFolder, SnapshotView, TransferView } from '../main/contract.js';
import { Controller } from '../main/control/controller.js';
import { firstCareDone, watchState, type BenchApp } from './gui-load.js';
import { dropCaches, freePort, timed } from './tools.js';

/** How long a person looks at a folder before opening one inside it, in the read-ahead figure. */
const AHEAD_AFTER_MS = 10_000;
/** Counted rounds, after the warm-up. */
const ROUNDS = 3;
const MB = 1e6;
const PASSWORD = 'bench restore password';

export interface RestoreFigures {
  folderBytes: number;
  downloadMBps: number[];
  /** Saved by the desktop app's controller (this process), as after its save dialog. */
  savedMBps: number[];
  byHandMBps: number[];
  dumpByHandMBps: number[];
  files: number;
  firstPageMs: number;
  /** The first page of the same folder in another snapshot, asked for a while after its parent folder was shown (read ahead meanwhile). */
  aheadPageMs: number;
  /** How long after its parent was shown that was. */
  aheadAfterMs: number;
  nextPageMs: number;
  lsByHandMs: number;
}

/** restic by hand, its output dropped. */
function restic(repo: string, args: string[], cacheDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('restic', ['--repo', repo, '--quiet', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: cacheDir } });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`restic ${args[0]} exited ${code}: ${errors}`))));
  });
}

/** The bytes of a GET of the GUI's download route, read and dropped as they come. */
function fetchDownload(port: number, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `/download/${id}` }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`download answered ${res.statusCode}`))));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** A computer of the app backed up by restic straight onto the app's disk, with `folderMB` of random files in one folder and `files` small files in another; its password kept by the app. */
async function backedUp(app: BenchApp, work: string, folderMB: number, files: number) {
  const login = await app.gui.api<LoginCreated>('addComputer', { displayName: 'Bench restore' });
  const repo = join(app.disk, login.username);
  const cache = join(work, 'restic-cache');
  const source = join(work, 'source');
  mkdirSync(join(source, 'videos'), { recursive: true });
  mkdirSync(join(source, 'many'));
  for (let index = 0; index * 10 < folderMB; index++) writeFileSync(join(source, 'videos', `clip-${index}.bin`), randomBytes(Math.min(10, folderMB - index * 10) * MB));
  for (let index = 0; index < files; index++) writeFileSync(join(source, 'many', `note-${index}.txt`), `${index}`);
  await restic(repo, ['init'], cache);
  await restic(repo, ['backup', source], cache);
  // A second snapshot, whose folders the app has never listed: the read-ahead is measured there.
  await restic(repo, ['backup', '--force', source], cache);
  const states = watchState(app.gui);
  await app.gui.api('keepPassword', { username: login.username, password: PASSWORD });
  await states.next(firstCareDone(login.username));
  states.stop();
  const [snapshot, older] = await app.gui.api<SnapshotView[]>('listSnapshots', { username: login.username });
  return { username: login.username, repo, cache, source, snapshotId: (snapshot as SnapshotView).id, olderId: (older as SnapshotView).id };
}

/**
 * The desktop app's controller in this process, serving, its save dialog
 * answered with a file in `work`, keeping the password of a computer whose
 * repository is `repo` (linked into its own disk folder, not copied).
 */
async function desktopApp(work: string, repo: string) {
  const saved = join(work, 'saved.tar');
  const controller = await Controller.open({ configDir: join(work, 'desktop-config'), hostName: 'bench', askSaveFile: () => Promise.resolve(saved) });
  const disk = join(work, 'desktop-disk');
  mkdirSync(disk);
  await controller.chooseFolder({ path: disk });
  const { username } = await controller.addComputer({ displayName: 'Bench desktop' });
  execFileSync('cp', ['-al', repo, join(disk, username)]);
  await controller.updateSettings({ port: await freePort() });
  await controller.startServer();
  // The app looks after the backups only while it serves; its first runs are let end before anything is timed, followed on its state events as the page follows them.
  const cared = new Promise<void>((resolve) => {
    const seen = (state: AppState) => {
      if (!firstCareDone(username)(state)) return;
      controller.off('state', seen);
      resolve();
    };
    controller.on('state', seen);
  });
  await controller.keepPassword({ username, password: PASSWORD });
  await cared;
  return {
    /** Saves `path` of the snapshot as .tar, as after the save dialog, until it is whole on the disk. */
    save: async (snapshotId: string, path: string) => {
      const started = await controller.startDownload({ username, snapshotId, path, format: 'tar' });
      let view = started as TransferView;
      while (view.state === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 20));
        view = await controller.transfer({ id: view.id });
      }
      if (view.state !== 'done') throw new Error(`the desktop download ended ${view.state}: ${view.message}`);
      rmSync(saved);
    },
    close: () => controller.close(),
  };
}

export async function restoreFigures(app: BenchApp, folderMB = 300, files = 100_000): Promise<RestoreFigures> {
  const work = mkdtempSync(join(tmpdir(), 'rts-bench-restore-'));
  let desktop: Awaited<ReturnType<typeof desktopApp>> | undefined;
  try {
    const { username, repo, cache, source, snapshotId, olderId } = await backedUp(app, work, folderMB, files);
    const folder = join(source, 'videos');
    const saving = await desktopApp(work, repo);
    desktop = saving;
    const figures: RestoreFigures = { folderBytes: folderMB * MB, downloadMBps: [], savedMBps: [], byHandMBps: [], dumpByHandMBps: [], files, firstPageMs: 0, aheadPageMs: 0, aheadAfterMs: AHEAD_AFTER_MS, nextPageMs: 0, lsByHandMs: 0 };
    for (let round = -1; round < ROUNDS; round++) {
      const counted = (list: number[], mbps: number) => round >= 0 && list.push(mbps);
      const byApp = async () => {
        dropCaches();
        let bytes = 0;
        const seconds = await timed(async () => {
          const started = await app.gui.api<TransferView>('startDownload', { username, snapshotId, path: folder, format: 'tar' });
          bytes = await fetchDownload(app.gui.port, started.id);
        });
        counted(figures.downloadMBps, bytes / MB / seconds);
      };
      const byHand = async () => {
        dropCaches();
        const target = join(work, `by-hand-${round}`);
        const seconds = await timed(() => restic(repo, ['restore', snapshotId, '--target', target, '--include', folder], cache));
        counted(figures.byHandMBps, figures.folderBytes / MB / seconds);
        rmSync(target, { recursive: true, force: true });
      };
      const dumpByHand = async () => {
        dropCaches();
        const seconds = await timed(() => restic(repo, ['dump', '--archive', 'tar', snapshotId, folder], cache));
        counted(figures.dumpByHandMBps, figures.folderBytes / MB / seconds);
      };
      const bySaving = async () => {
        dropCaches();
        const seconds = await timed(() => saving.save(snapshotId, folder));
        counted(figures.savedMBps, figures.folderBytes / MB / seconds);
      };
      for (const run of round % 2 === 0 ? [byApp, bySaving, byHand, dumpByHand] : [dumpByHand, byHand, bySaving, byApp]) await run();
    }
    dropCaches();
    const many = join(source, 'many');
    let first: SnapshotFolder | undefined;
    const firstPage = async () => {
      first = await app.gui.api<SnapshotFolder>('browseSnapshot', { username, snapshotId, path: many });
    };
    figures.firstPageMs = (await timed(firstPage)) * 1000;
    figures.nextPageMs = (await timed(() => app.gui.api('browseSnapshot', { username, snapshotId, path: many, offset: first?.entries.length ?? 0 }))) * 1000;
    dropCaches();
    figures.lsByHandMs = (await timed(() => restic(repo, ['ls', '--no-lock', '--json', snapshotId, many], cache))) * 1000;
    dropCaches();
    await app.gui.api('browseSnapshot', { username, snapshotId: olderId, path: source });
    await new Promise((resolve) => setTimeout(resolve, AHEAD_AFTER_MS));
    figures.aheadPageMs = (await timed(() => app.gui.api('browseSnapshot', { username, snapshotId: olderId, path: many }))) * 1000;
    return figures;
  } finally {
    await desktop?.close();
    rmSync(work, { recursive: true, force: true });
  }
}
