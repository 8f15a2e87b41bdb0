/**
 * The offsite copy's figures: the app copying its backup folder to another
 * folder, and to a real OpenSSH server on this machine (SFTP), each against
 * `rclone copy` of the same folder to the same kind of place run by hand,
 * alternating, page cache dropped before each (where Linux lets us). The
 * app adds its ordered steps (four jobs of one `rclone rcd`) and the listing
 * that keeps deletions waiting; the bytes go through the same rclone. Then what a copy
 * to the SFTP server costs four connections uploading as a computer: rounds
 * with and without a copy running, alternating. The integrity check is
 * let finish first, so that it does not read the disk during the copies.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppState } from '../main/contract.js';
import { uploadPacks, type BenchApp } from './gui-load.js';
import { SshServer, stopSshServers } from './sshd.js';
import { dropCaches, packMaker, sha256, timed } from './tools.js';

const ROUNDS = 2;
const MB = 1e6;
const PACKS_PER_ROUND = 16;
const PACK_SIZE = 16 << 20;

export interface CopyFigures {
  appMBps: number[];
  byHandMBps: number[];
}

export interface OffsiteFigures {
  bytes: number;
  folder: CopyFigures;
  /** Null when no OpenSSH server is installed. */
  sftp: CopyFigures | null;
  uploadAloneMBps: number[];
  uploadDuringCopyMBps: number[];
}

function folderBytes(folder: string): number {
  const result = spawnSync('du', ['-sb', folder], { encoding: 'utf8' });
  return Number(result.stdout.split('\t')[0]);
}

/** Where a round copies to: a fresh place, as rclone names it, and how to empty it afterwards. */
interface Place {
  remote: string;
  rcloneConfig: string | null;
  remove(): void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForCopy(app: BenchApp): Promise<void> {
  for (;;) {
    const state = await app.gui.api<AppState>('getState');
    if (state.offsite.problem) throw new Error(`the app's copy failed: ${state.offsite.problem}`);
    if (state.integrity.running) throw new Error('an integrity check ran during the copy: both read the disk, so the figure would not be the copy’s');
    if (state.offsite.lastCopyAt !== null && state.offsite.running === null) return;
    await pause(50);
  }
}

/** Lets the app's integrity check run to its end (the integrity rounds leave one paused, which goes on by itself once uploads stop): none is due during the copies. */
async function finishIntegrityCheck(app: BenchApp): Promise<void> {
  await app.gui.api('checkIntegrity');
  while ((await app.gui.api<AppState>('getState')).integrity.running) await pause(200);
}

/** Points the app's copy at `place` (tested with a probe file there), before anything is timed. */
async function aimAt(app: BenchApp, place: Place): Promise<void> {
  await app.gui.api('setOffsite', { remote: place.remote, rcloneConfig: place.rcloneConfig });
  dropCaches();
}

async function copySpeed(app: BenchApp, bytes: number, newPlace: () => Place): Promise<CopyFigures> {
  const figures: CopyFigures = { appMBps: [], byHandMBps: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const byHand = newPlace();
    dropCaches();
    const handSeconds = await timed(async () => {
      const result = spawnSync('rclone', ['copy', app.disk, byHand.remote, '--config', byHand.rcloneConfig ?? '/dev/null', '--exclude', '.*', '--exclude', 'locks/**']);
      if (result.status !== 0) throw new Error(`rclone copy exited ${result.status}: ${result.stderr}`);
    });
    figures.byHandMBps.push(bytes / MB / handSeconds);
    byHand.remove();

    const target = newPlace();
    await aimAt(app, target);
    const appSeconds = await timed(async () => {
      await app.gui.api('copyOffsiteNow');
      await waitForCopy(app);
    });
    figures.appMBps.push(bytes / MB / appSeconds);
    await app.gui.api('removeOffsite');
    target.remove();
  }
  return figures;
}

export async function offsiteUnderLoad(app: BenchApp): Promise<OffsiteFigures | null> {
  if (spawnSync('rclone', ['version']).status !== 0) return null;
  await finishIntegrityCheck(app);
  const bytes = folderBytes(join(app.disk, app.repo.slice(1)));
  const folder = await copySpeed(app, bytes, () => {
    const path = mkdtempSync(join(tmpdir(), 'rts-bench-copy-'));
    return { remote: path, rcloneConfig: null, remove: () => rmSync(path, { recursive: true, force: true }) };
  });
  const figures: OffsiteFigures = { bytes, folder, sftp: null, uploadAloneMBps: [], uploadDuringCopyMBps: [] };
  if (spawnSync('sh', ['-c', 'command -v /usr/sbin/sshd']).status !== 0) return figures;

  const ssh = await SshServer.start();
  try {
    const config = join(ssh.folder, '..', 'rclone.conf');
    writeFileSync(config, ssh.rcloneConfig('bench-sftp'), { mode: 0o600 });
    let count = 0;
    const sftpPlace = (): Place => {
      const path = join(ssh.folder, `round-${count++}`);
      return { remote: `bench-sftp:${path}`, rcloneConfig: config, remove: () => rmSync(path, { recursive: true, force: true }) };
    };
    figures.sftp = await copySpeed(app, bytes, sftpPlace);

    const pack = packMaker(PACK_SIZE);
    const ids = Array.from({ length: ROUNDS * 2 * PACKS_PER_ROUND }, (_, i) => sha256(pack(5000 + i)));
    const rate = (seconds: number) => (PACKS_PER_ROUND * PACK_SIZE) / MB / seconds;
    const upload = (round: number) => uploadPacks(app, (i) => pack(5000 + i), ids, round * PACKS_PER_ROUND, PACKS_PER_ROUND);
    for (let round = 0; round < ROUNDS; round++) {
      figures.uploadAloneMBps.push(rate(await upload(round * 2)));
      const place = sftpPlace();
      await aimAt(app, place);
      await app.gui.api('copyOffsiteNow');
      figures.uploadDuringCopyMBps.push(rate(await upload(round * 2 + 1)));
      const state = await app.gui.api<AppState>('getState');
      if (!state.offsite.running) throw new Error('the copy was no longer running during the upload: make the rounds bigger');
      await waitForCopy(app);
      await app.gui.api('removeOffsite');
      place.remove();
    }
  } finally {
    stopSshServers();
  }
  return figures;
}
