/**
 * The integrity check's figures: how fast the scrub reads when nothing else
 * runs, against the disk's own sequential read rate measured on the same
 * files just before (page cache dropped before each, where Linux lets us);
 * and what a check running in the app costs four connections uploading as a
 * computer (rounds with and without a check, alternating; after each round
 * with one, the server is stopped and started again, which pauses the
 * check: the next one goes on from there).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { AppState } from '../main/contract.js';
import { uploadPacks, waitUntilServing, type BenchApp } from './gui-load.js';
import { dropCaches, packMaker, sha256, timed } from './tools.js';

const ROUNDS = 3;
const PACKS_PER_ROUND = 16;
const PACK_SIZE = 16 << 20;
const MB = 1e6;

export interface IntegrityFigures {
  /** Whether the page cache could be dropped before each read (otherwise the reads came from memory). */
  cacheDropped: boolean;
  diskReadMBps: number[];
  /** The scrub's pass, from its own start and end times (the command's JSON). */
  scrubMBps: number[];
  /** The same pass, from starting the command to its exit (Node's start and the modules' loading included). */
  scrubCommandMBps: number[];
  uploadAloneMBps: number[];
  uploadDuringCheckMBps: number[];
}

/** Reads every file under `folder` once, sequentially, 1 MiB at a time; the bytes read. */
function readAll(folder: string): number {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const fd = openSync(join(entry.parentPath, entry.name), 'r');
    try {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) bytes += n;
    } finally {
      closeSync(fd);
    }
  }
  return bytes;
}

export async function integrityUnderLoad(app: BenchApp): Promise<IntegrityFigures> {
  const figures: IntegrityFigures = { cacheDropped: true, diskReadMBps: [], scrubMBps: [], scrubCommandMBps: [], uploadAloneMBps: [], uploadDuringCheckMBps: [] };
  const repoFolder = join(app.disk, app.repo.slice(1));
  const pack = packMaker(PACK_SIZE);
  const ids = Array.from({ length: ROUNDS * 2 * PACKS_PER_ROUND }, (_, i) => sha256(pack(1000 + i)));
  const upload = (round: number) => uploadPacks(app, (i) => pack(1000 + i), ids, round * PACKS_PER_ROUND, PACKS_PER_ROUND);
  const rate = (seconds: number) => (PACKS_PER_ROUND * PACK_SIZE) / MB / seconds;

  for (let round = 0; round < ROUNDS; round++) {
    figures.uploadAloneMBps.push(rate(await upload(round * 2)));
    await app.gui.api('checkIntegrity');
    figures.uploadDuringCheckMBps.push(rate(await upload(round * 2 + 1)));
    const state = await app.gui.api<AppState>('getState');
    if (!state.integrity.running) throw new Error('the integrity check was no longer running during the upload: make the rounds bigger');
    // Pauses the check, so that the next round without one has none.
    await app.gui.api('stopServer');
    await app.gui.api('startServer');
    await waitUntilServing(app.gui);
  }

  for (let round = 0; round < ROUNDS; round++) {
    figures.cacheDropped &&= dropCaches();
    let bytes = 0;
    const readSeconds = await timed(async () => {
      bytes = readAll(repoFolder);
    });
    figures.diskReadMBps.push(bytes / MB / readSeconds);
    figures.cacheDropped &&= dropCaches();
    let pass = { bytes: 0, startedAt: '', finishedAt: '' };
    const commandSeconds = await timed(async () => {
      const result = spawnSync(process.execPath, ['dist/server/cli.js', 'scrub', '--path', app.disk, '--repo', app.repo.slice(1), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (result.status !== 0) throw new Error(`scrub exited ${result.status}: ${result.stderr}`);
      pass = JSON.parse(result.stdout) as typeof pass;
    });
    const passSeconds = (Date.parse(pass.finishedAt) - Date.parse(pass.startedAt)) / 1000;
    figures.scrubMBps.push(pass.bytes / MB / passSeconds);
    figures.scrubCommandMBps.push(pass.bytes / MB / commandSeconds);
  }
  return figures;
}
