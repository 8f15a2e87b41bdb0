/**
 * The offsite copy's speed: the app copying its backup folder to another
 * folder, against `rclone copy` of the same folder run by hand, alternating,
 * page cache dropped before each (where Linux lets us). The app adds its
 * ordered steps (four rclone runs) and the listing that keeps deletions
 * waiting; the bytes go through the same rclone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppState } from '../main/contract.js';
import type { BenchApp } from './gui-load.js';
import { timed } from './tools.js';

const ROUNDS = 2;
const MB = 1e6;

export interface OffsiteFigures {
  appMBps: number[];
  byHandMBps: number[];
  bytes: number;
}

function dropCaches(): void {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  } catch {
    // Not root: both copies read from memory alike.
  }
}

function folderBytes(folder: string): number {
  const result = spawnSync('du', ['-sb', folder], { encoding: 'utf8' });
  return Number(result.stdout.split('\t')[0]);
}

export async function offsiteCopySpeed(app: BenchApp): Promise<OffsiteFigures | null> {
  if (spawnSync('rclone', ['version']).status !== 0) return null;
  const bytes = folderBytes(join(app.disk, app.repo.slice(1)));
  const figures: OffsiteFigures = { appMBps: [], byHandMBps: [], bytes };
  for (let round = 0; round < ROUNDS; round++) {
    const byHand = mkdtempSync(join(tmpdir(), 'rts-bench-copy-'));
    dropCaches();
    const handSeconds = await timed(async () => {
      const result = spawnSync('rclone', ['copy', app.disk, byHand, '--config', '/dev/null', '--exclude', '.*', '--exclude', 'locks/**']);
      if (result.status !== 0) throw new Error(`rclone copy exited ${result.status}: ${result.stderr}`);
    });
    figures.byHandMBps.push(bytes / MB / handSeconds);
    rmSync(byHand, { recursive: true, force: true });

    const target = mkdtempSync(join(tmpdir(), 'rts-bench-copy-'));
    // Set (and tested with a probe file) before the clock starts: only the copy is timed.
    await app.gui.api('setOffsite', { remote: target });
    dropCaches();
    const appSeconds = await timed(async () => {
      await app.gui.api('copyOffsiteNow');
      for (;;) {
        const state = await app.gui.api<AppState>('getState');
        if (state.offsite.problem) throw new Error(`the app's copy failed: ${state.offsite.problem}`);
        if (state.offsite.lastCopyAt !== null && state.offsite.running === null) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    figures.appMBps.push(bytes / MB / appSeconds);
    await app.gui.api('removeOffsite');
    rmSync(target, { recursive: true, force: true });
  }
  return figures;
}
