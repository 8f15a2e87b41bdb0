/**
 * Retention by the app against restic by hand: a repository of about
 * `sizeMb` MB made of 20 backups over 60 days (each with new data of its
 * own), copied; the app runs its default policy on one (forget --prune
 * through "Run now", timed until the page shows the outcome), restic by hand
 * the same flags on the copy. It is the same restic: the figures should be
 * within a few percent.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppState, LoginCreated } from '../main/contract.js';
import type { BenchApp } from './gui-load.js';
import { timed } from './tools.js';

const BACKUPS = 20;
const DAY_MS = 86_400_000;
const PASSWORD = 'bench retention password';
const DEFAULT_FLAGS = ['--keep-within', '2d', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '3'];

export interface RetentionFigures {
  bytes: number;
  appSeconds: number;
  byHandSeconds: number;
  appFreedBytes: number;
}

function restic(repo: string, args: string[], cache: string): void {
  const result = spawnSync('restic', ['--repo', repo, ...args], { env: { PATH: process.env.PATH, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: cache }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`restic ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(-1000)}`);
}

const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

export async function retentionByAppAndByHand(app: BenchApp, work: string, sizeMb: number): Promise<RetentionFigures> {
  const computer = await app.gui.api<LoginCreated>('addComputer', { displayName: 'Bench retention' });
  const repo = join(app.disk, computer.username);
  const cache = join(work, 'retention-cache');
  const source = join(work, 'retention-source');
  mkdirSync(source, { recursive: true });
  restic(repo, ['init'], cache);
  const chunk = Math.ceil((sizeMb * 1e6) / BACKUPS);
  for (let index = 0; index < BACKUPS; index++) {
    writeFileSync(join(source, 'changing.bin'), randomBytes(chunk));
    restic(repo, ['backup', '--time', resticTime(new Date(Date.now() - (BACKUPS - index) * 3 * DAY_MS)), source], cache);
  }
  const copy = join(work, 'retention-by-hand');
  cpSync(repo, copy, { recursive: true });

  await app.gui.api('keepPassword', { username: computer.username, password: PASSWORD });
  let freed = 0;
  const appSeconds = await timed(async () => {
    await app.gui.api('runRetention', { username: computer.username });
    for (;;) {
      const state = await app.gui.api<AppState>('getState');
      const last = state.caretaker.computers.find((care) => care.username === computer.username)?.lastRetention;
      if (last) {
        if (!last.ok) throw new Error(`the app's retention failed: ${last.problem}`);
        freed = last.freedBytes;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  const byHandSeconds = await timed(async () => restic(copy, ['forget', '--prune', ...DEFAULT_FLAGS], cache));
  return { bytes: chunk * BACKUPS, appSeconds, byHandSeconds, appFreedBytes: freed };
}
