/**
 * Retention by the app against restic by hand: a repository of about
 * `sizeMb` MB made of 20 backups over 60 days (files of 1 MB, each backup
 * rewriting a few, so that the prune repacks) is kept as a template; each
 * round copies it afresh to the app's disk and to a folder of its own, then
 * the app runs its default policy on its copy (forget --prune through "Run
 * now", timed until the page shows the outcome) and restic by hand the same
 * flags on the other, alternating which goes first. A warm-up round (the
 * app's restic cache filled) is not counted. It is the same restic: the
 * figures should be within a few percent.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppState, LoginCreated } from '../main/contract.js';
import { firstCareDone, watchState, type BenchApp } from './gui-load.js';
import { timed } from './tools.js';

const BACKUPS = 20;
const FILE_BYTES = 1_000_000;
/** Counted rounds, after the warm-up. */
const ROUNDS = 4;
const DAY_MS = 86_400_000;
const PASSWORD = 'bench retention password';
const DEFAULT_FLAGS = ['--keep-within', '2d', '--keep-daily', '7', '--keep-weekly', '5', '--keep-monthly', '12', '--keep-yearly', '3'];

export interface RetentionFigures {
  bytes: number;
  appSeconds: number[];
  byHandSeconds: number[];
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
  // Half the size in files of 1 MB, then each later backup rewrites a few of them here and there: the packs
  // of a backup hold files that outlive it and files that do not, so the prune repacks, as on a real computer.
  const files = Math.max(2, Math.round(sizeMb / 2));
  const perBackup = Math.max(1, Math.round(files / (BACKUPS - 1)));
  for (let file = 0; file < files; file++) writeFileSync(join(source, `file-${file}.bin`), randomBytes(FILE_BYTES));
  for (let index = 0; index < BACKUPS; index++) {
    if (index > 0) for (let turn = 0; turn < perBackup; turn++) writeFileSync(join(source, `file-${(index * 7919 + turn * 31) % files}.bin`), randomBytes(FILE_BYTES));
    restic(repo, ['backup', '--time', resticTime(new Date(Date.now() - (BACKUPS - index) * 3 * DAY_MS)), source], cache);
  }
  const template = join(work, 'retention-template');
  cpSync(repo, template, { recursive: true });
  const copy = join(work, 'retention-by-hand');
  await app.gui.api('keepPassword', { username: computer.username, password: PASSWORD });

  let freed = 0;
  let lastAt: string | undefined;
  const lastOf = (state: AppState) => state.caretaker.computers.find((care) => care.username === computer.username)?.lastRetention;
  // The page's event stream says when the run ended: asking for the state again and again would take CPU from restic.
  const states = watchState(app.gui);
  // A retention the app ran by itself (the backups look fresh) is not one of the timed runs.
  lastAt = lastOf(await states.next(firstCareDone(computer.username)))?.at;
  const byApp = () =>
    timed(async () => {
      await app.gui.api('runRetention', { username: computer.username });
      const last = lastOf(await states.next((state) => (lastOf(state)?.at ?? lastAt) !== lastAt));
      if (!last?.ok) throw new Error(`the app's retention failed: ${last?.problem}`);
      lastAt = last.at;
      freed = last.freedBytes;
    });
  const byHand = () => timed(async () => restic(copy, ['forget', '--prune', ...DEFAULT_FLAGS], cache));
  const figures = { app: [] as number[], hand: [] as number[] };
  for (let round = -1; round < ROUNDS; round++) {
    // The app's own runs end first (its first check of a computer whose password was just kept): its folder is replaced.
    await states.next(firstCareDone(computer.username));
    for (const folder of [repo, copy]) {
      rmSync(folder, { recursive: true, force: true });
      cpSync(template, folder, { recursive: true });
    }
    const order = round % 2 === 0 ? (['app', 'hand'] as const) : (['hand', 'app'] as const);
    for (const who of order) {
      // The copies' writes reach the disk first, or the run that goes first pays for them.
      spawnSync('sync');
      const seconds = who === 'app' ? await byApp() : await byHand();
      if (round >= 0) figures[who].push(seconds);
    }
  }
  states.stop();
  return { bytes: (files + perBackup * (BACKUPS - 1)) * FILE_BYTES, appSeconds: figures.app, byHandSeconds: figures.hand, appFreedBytes: freed };
}
