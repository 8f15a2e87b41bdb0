import { Readable } from 'node:stream';
import type { Dirent } from 'node:fs';
import { constants } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isTempName, writeAtomically } from '../atomic-write.js';
import type { Syncer } from '../fsync.js';
import { KeyedLock } from '../keyed-lock.js';
import { isLinkOpenError, NO_FOLLOW } from '../links.js';
import { isObjectId, isObjectType, MAX_REPO_DEPTH } from '../repo-path.js';
import { ScrubReader, StopReading, type FileRead } from './scrub-reader.js';

/**
 * The scrub: every restic file but `config` is named by the SHA-256 of its
 * contents, so the server can tell a damaged object from a sound one without
 * any password. A pass reads every object of every repository on the disk,
 * in a fixed order, and keeps its progress on the disk itself, so that a
 * restart or an unplugged disk resumes it where it stopped.
 */

/** Beside the disk marker; hidden, so never listed as a repository. */
export const SCRUB_STATE_NAME = '.restic-tray-server-scrub.json';
/** Damaged objects are moved here (same disk, same relative path), out of restic's sight, and kept. */
export const QUARANTINE_NAME = '.restic-tray-server-quarantine';

export type Damage = 'changed' | 'truncated' | 'empty' | 'unreadable' | 'misnamed';

export interface Finding {
  /** The repository, e.g. `alice` or `alice/laptop` (empty for the data folder itself). */
  repo: string;
  /** The file inside the repository, e.g. `data/3f/3f5a...`. */
  file: string;
  damage: Damage;
  /** One sentence for a person. */
  detail: string;
  /** Where it was moved, relative to the data folder; absent when it stays where it is. */
  quarantined?: string;
  foundAt: string;
}

/** Something in the data folder the check did not look into, and why: a link is never followed out of the data folder. */
export interface Skipped {
  /** Relative to the data folder, e.g. `alice/index`. */
  path: string;
  reason: string;
}

export interface ScrubCounts {
  startedAt: string;
  objects: number;
  bytes: number;
  findings: Finding[];
  /** Absent in a record written before links were told apart. */
  skipped?: Skipped[];
}

export interface ScrubPass extends ScrubCounts {
  finishedAt: string;
}

/** What is kept on the disk between runs. */
export interface ScrubState {
  version: 1;
  /** The pass under way: the last file done, in the pass's order. */
  current: (ScrubCounts & { after: { repo: string; file: string } | null }) | null;
  last: ScrubPass | null;
  /** Findings of every pass that nobody has repaired yet (see `settleFindings`). */
  open: Finding[];
  /** Per repository, when its findings were last said to be repaired: nothing found before then waits any more. */
  settled: Record<string, string>;
}

export interface ScrubOptions {
  root: string;
  syncer: Syncer;
  /** Only this repository, as a one-off check: no progress is read or kept. */
  repo?: string;
  /** Move damaged objects into the quarantine folder. */
  quarantine: boolean;
  /** Bytes per second the reads may take right now (Infinity: no limit); asked again every second. */
  pace?: () => number;
  signal?: AbortSignal;
  /** Called after every file, and at the end. */
  onProgress?: (counts: ScrubCounts) => void;
  /** Called once per pass for each thing it did not look into (also kept in the counts' `skipped`). */
  onSkip?: (skipped: Skipped) => void;
  /**
   * Whether the disk is still there; by default, whether the data folder is
   * still on the device it was on at the start (an unplugged disk leaves a
   * bare mount point). Asked when a file cannot be read and before a pass
   * counts as complete: a missing disk stops the pass (nothing is written).
   */
  present?: () => Promise<boolean>;
  /** How often the progress is written to the disk during a pass (default every 5 s). */
  saveEveryMs?: number;
}

export type ScrubOutcome = { finished: true; pass: ScrubPass } | { finished: false; counts: ScrubCounts; diskMissing: boolean };

const SAVE_EVERY_MS = 5000;
/** Changes to a data folder's record are read, changed and written one at a time (a pass's progress, a repair said). */
const recordLocks = new KeyedLock();
const now = () => new Date().toISOString();

export async function readScrubState(root: string): Promise<ScrubState> {
  const path = join(root, SCRUB_STATE_NAME);
  try {
    const parsed = JSON.parse(await readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | NO_FOLLOW })) as ScrubState;
    if (parsed?.version === 1) return { ...parsed, open: parsed.open ?? [], settled: parsed.settled ?? {} };
  } catch (error) {
    if (isLinkOpenError(error)) throw new Error(`the check's record ${path} is a symbolic link; it is not followed out of the data folder. Remove the link (the record starts again).`);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  }
  return { version: 1, current: null, last: null, open: [], settled: {} };
}

const sameFile = (a: Finding, b: Finding) => a.repo === b.repo && a.file === b.file;

/** What waits for a repair: `open` with `found` added (a file already waiting is listed once, with its newest finding), less what was settled after it was found. */
function stillOpen(open: Finding[], found: Finding[], settled: Record<string, string>): Finding[] {
  const merged = [...open.filter((finding) => !found.some((other) => sameFile(finding, other))), ...found];
  return merged.filter((finding) => settled[finding.repo] === undefined || finding.foundAt > (settled[finding.repo] as string));
}

async function saveScrubState(root: string, state: ScrubState, syncer: Syncer): Promise<void> {
  await writeAtomically(join(root, SCRUB_STATE_NAME), Readable.from([Buffer.from(`${JSON.stringify(state)}\n`)]), { mode: 0o600, syncer });
}

async function entriesOf(folder: string): Promise<Dirent[]> {
  try {
    return await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const LINK = 'a symbolic link: not followed out of the data folder';

/**
 * Every repository in the data folder (a folder with a `config` file or a
 * `keys` folder: the data folder itself, or up to two folders deep), sorted.
 * Only real folders are visited (a Dirent's type is the entry's own, never
 * followed); a link where a repository could be is told to `onSkip`.
 */
export async function findRepositories(root: string, onSkip?: (skipped: Skipped) => void): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string, repo: string[]): Promise<void> => {
    const entries = await entriesOf(folder);
    if (entries.some((entry) => (entry.name === 'config' && entry.isFile()) || (entry.name === 'keys' && entry.isDirectory()))) {
      found.push(repo.join('/'));
    }
    if (repo.length >= MAX_REPO_DEPTH) return;
    for (const entry of entries) {
      if (entry.name.startsWith('.') || isObjectType(entry.name)) continue;
      if (entry.isDirectory()) await visit(join(folder, entry.name), [...repo, entry.name]);
      else if (entry.isSymbolicLink()) onSkip?.({ path: [...repo, entry.name].join('/'), reason: LINK });
    }
  };
  await visit(root, []);
  return found.sort();
}

/** Files the server or rest-server leaves while writing: not objects, not damage. */
const isLeftover = (name: string): boolean => isTempName(name) || name.includes('.rest-server-temp');

/** Why an entry that is neither a real file nor a real folder is not looked into. */
const notFollowed = (entry: Dirent): string => (entry.isSymbolicLink() ? LINK : 'neither a file nor a folder');

/**
 * A repository's object files (relative paths, sorted), the files that sit
 * where restic would never find them, and what was not looked into: a type
 * folder, `data/XX` folder or file that is a link (it would lead the check,
 * and the quarantine's moves, out of the data folder).
 */
async function objectsOf(repoFolder: string): Promise<{ objects: string[]; misnamed: string[]; skipped: { file: string; reason: string }[] }> {
  const objects: string[] = [];
  const misnamed: string[] = [];
  const skipped: { file: string; reason: string }[] = [];
  for (const type of ['data', 'index', 'keys', 'locks', 'snapshots']) {
    const info = await lstat(join(repoFolder, type)).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
    if (info?.isSymbolicLink()) skipped.push({ file: type, reason: LINK });
    if (!info?.isDirectory()) continue;
    for (const entry of await entriesOf(join(repoFolder, type))) {
      if (isLeftover(entry.name)) continue;
      if (type === 'data' && entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name)) {
        for (const inner of await entriesOf(join(repoFolder, type, entry.name))) {
          if (isLeftover(inner.name)) continue;
          const file = `data/${entry.name}/${inner.name}`;
          if (!inner.isFile()) {
            if (!inner.isDirectory()) skipped.push({ file, reason: notFollowed(inner) });
            continue;
          }
          (isObjectId(inner.name) && inner.name.startsWith(entry.name) ? objects : misnamed).push(file);
        }
      } else if (entry.isFile()) {
        (type !== 'data' && isObjectId(entry.name) ? objects : misnamed).push(`${type}/${entry.name}`);
      } else if (!entry.isDirectory()) {
        skipped.push({ file: `${type}/${entry.name}`, reason: notFollowed(entry) });
      }
    }
  }
  return { objects: objects.sort(), misnamed: misnamed.sort(), skipped };
}

/** A restic pack ends with its header's length (4 bytes, little-endian); a cut-off pack's end is random data. */
function looksCutOff(file: string, read: FileRead): boolean {
  if (!file.startsWith('data/')) return false;
  return read.tail === null || read.tail + 4 > read.read;
}

function judge(file: string, name: string, read: FileRead): Omit<Finding, 'repo' | 'file' | 'foundAt'> | undefined {
  if (read.read === 0) return { damage: 'empty', detail: 'The file is empty: its contents are lost.' };
  if (read.sha256 === name) return undefined;
  if (looksCutOff(file, read)) return { damage: 'truncated', detail: `The file is cut off (${read.read} bytes left): the end of its contents is lost.` };
  return { damage: 'changed', detail: 'The contents no longer match the name (SHA-256 differs): part of the file was changed on the disk.' };
}

const unreadable = (error: unknown): Omit<Finding, 'repo' | 'file' | 'foundAt'> => ({
  damage: 'unreadable',
  detail: `The disk returned an error reading it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): the disk may be failing; copy the backups to another disk soon.`,
});

/** The quarantine moves files only between real folders of the data folder's own device. */
class QuarantineRefused extends Error {}

/** Throws unless `path` is a real folder on the device `dev` (with `make`: made first when missing). */
async function requireRealFolder(path: string, dev: number, make = false): Promise<void> {
  if (make) await mkdir(path, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)));
  const info = await lstat(path);
  const what = info.isSymbolicLink() ? 'is a symbolic link' : !info.isDirectory() ? 'is not a folder' : info.dev !== dev ? 'is on another disk than the data folder' : undefined;
  if (what) throw new QuarantineRefused(`${path} ${what}; the check moves damaged files only within the data folder. Remove or move it, then run the check again.`);
}

/**
 * Moves a damaged file into the quarantine folder; an earlier file of the
 * same name there is kept too. Every folder on both paths is looked at
 * just before (one may have been swapped for a link since the listing):
 * a link at any level, or a folder on another device, stops the move.
 */
async function moveAside(root: string, relative: string, dev: number): Promise<string> {
  const parts = relative.split('/');
  for (let depth = 1; depth < parts.length; depth++) await requireRealFolder(join(root, ...parts.slice(0, depth)), dev);
  const quarantined = [QUARANTINE_NAME, ...parts];
  for (let depth = 1; depth < quarantined.length; depth++) await requireRealFolder(join(root, ...quarantined.slice(0, depth)), dev, true);
  const base = join(QUARANTINE_NAME, relative);
  for (let attempt = 0; ; attempt++) {
    const target = attempt === 0 ? base : `${base}.${attempt}`;
    const taken = await lstat(join(root, target)).then(
      () => true,
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
    );
    if (taken) continue;
    await rename(join(root, relative), join(root, target));
    return target;
  }
}

const isGone = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

async function onSameDevice(root: string): Promise<() => Promise<boolean>> {
  const { dev } = await stat(root);
  return () => stat(root).then((info) => info.dev === dev, () => false);
}

/**
 * Runs (or resumes) a pass. Reads happen on worker threads at the pace the
 * caller allows; `signal` ends the run with the progress kept. Objects that
 * vanish meanwhile (prune, lock removal) are skipped; a disk that vanishes
 * stops the run. A damaged object is read a second time before anything is
 * said or moved.
 */
export async function scrub(options: ScrubOptions): Promise<ScrubOutcome> {
  const { root } = options;
  const { dev } = await stat(root);
  // A quarantine that is a link would move damaged objects out of the data folder: refused before anything is read.
  if (options.quarantine) {
    await requireRealFolder(join(root, QUARANTINE_NAME), dev).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
  }
  const present = options.present ?? (await onSameDevice(root));
  const keep = options.repo === undefined;
  const state: ScrubState = keep ? await readScrubState(root) : { version: 1, current: null, last: null, open: [], settled: {} };
  const current = state.current ?? { startedAt: now(), objects: 0, bytes: 0, findings: [], after: null };
  state.current = current;
  const skipped = (current.skipped ??= []);
  const skip = (item: Skipped) => {
    if (skipped.some((earlier) => earlier.path === item.path)) return;
    skipped.push(item);
    options.onSkip?.(item);
  };
  const reader = new ScrubReader();
  const pace = () => reader.setLimit(options.pace?.() ?? Infinity);
  pace();
  const pacing = setInterval(pace, 1000);
  const onAbort = () => reader.stop();
  options.signal?.addEventListener('abort', onAbort);
  let saved = Date.now();
  let diskMissing = false;
  const stopped = (): ScrubOutcome => ({ finished: false, counts: current, diskMissing });
  const save = async (force = false) => {
    if (!keep || diskMissing || (!force && Date.now() - saved < (options.saveEveryMs ?? SAVE_EVERY_MS))) return;
    // Never onto the bare mount point of an unplugged disk.
    if (!(await present())) {
      diskMissing = true;
      return;
    }
    saved = Date.now();
    await recordLocks.run(root, async () => {
      // A repair said meanwhile (settleFindings) is on the disk, not in this run's copy.
      const onDisk = await readScrubState(root);
      state.settled = onDisk.settled;
      state.open = stillOpen(onDisk.open, current.findings, state.settled);
      await saveScrubState(root, state, options.syncer);
    });
  };
  const report = (repo: string, file: string, finding: Omit<Finding, 'repo' | 'file' | 'foundAt'>, quarantined?: string) => {
    current.findings.push({ repo, file, ...finding, ...(quarantined ? { quarantined } : {}), foundAt: now() });
  };
  try {
    const repos = options.repo === undefined ? await findRepositories(root, skip) : [options.repo];
    for (const repo of repos) {
      if (current.after && repo < current.after.repo) continue;
      const repoFolder = join(root, ...repo.split('/'));
      const { objects, misnamed, skipped: notLooked } = await objectsOf(repoFolder);
      for (const { file, reason } of notLooked) skip({ path: repo === '' ? file : `${repo}/${file}`, reason });
      const resumeAfter = current.after?.repo === repo ? current.after.file : undefined;
      const files = objects.filter((file) => resumeAfter === undefined || file > resumeAfter);
      const pathOf = (file: string) => join(repoFolder, ...file.split('/'));
      // Reads are asked for ahead of the judging, two per worker, so that a worker done with a small file takes the next at once; results are taken in order.
      const ahead = new Map<number, Promise<FileRead>>();
      const readAhead = (index: number) => {
        const file = files[index];
        if (file === undefined || ahead.has(index)) return;
        const read = reader.read(pathOf(file));
        read.catch(() => undefined);
        ahead.set(index, read);
      };
      for (let index = 0; index < files.length; index++) {
        for (let next = index; next < index + 2 * reader.parallel; next++) readAhead(next);
        const file = files[index] as string;
        const pending = ahead.get(index) as Promise<FileRead>;
        ahead.delete(index);
        if (options.signal?.aborted) return stopped();
        const path = pathOf(file);
        const name = file.slice(file.lastIndexOf('/') + 1);
        let finding: Omit<Finding, 'repo' | 'file' | 'foundAt'> | undefined;
        let read: FileRead | undefined;
        try {
          read = await pending;
          finding = judge(file, name, read);
          // Once more before anything is said: a read that went wrong once is not damage.
          if (finding && finding.damage !== 'empty') finding = judge(file, name, await reader.read(path));
        } catch (error) {
          if (error instanceof StopReading) return stopped();
          // A read error from a disk that was pulled out is no damage: stop, and go on when it is back.
          if (!(await present())) {
            diskMissing = true;
            return stopped();
          }
          if (isGone(error)) continue;
          // What the disk refuses comes with a system error code (EIO, EACCES...); anything else is the reader failing: no file is blamed, the pass stops.
          if (!/^E[A-Z0-9]+$/.test((error as NodeJS.ErrnoException).code ?? '')) throw error;
          finding = unreadable(error);
        }
        current.objects++;
        current.bytes += read?.read ?? 0;
        if (finding) {
          const relative = repo === '' ? file : `${repo}/${file}`;
          const quarantined = options.quarantine ? await moveAside(root, relative, dev).catch((error: unknown) => (isGone(error) ? undefined : Promise.reject(error))) : undefined;
          report(repo, file, finding, quarantined);
        }
        current.after = { repo, file };
        await save();
        options.onProgress?.(current);
      }
      // The repository's end mark: its misnamed files were reported before a stop.
      const END = '\uffff';
      if (resumeAfter !== END) {
        for (const file of misnamed) report(repo, file, { damage: 'misnamed', detail: 'This file is not named as restic names its files, so restic never reads it: it was put there by hand or by another program.' });
      }
      current.after = { repo, file: END };
    }
    // A disk that went away mid-pass makes its remaining repositories look empty.
    if (!(await present())) {
      diskMissing = true;
      return stopped();
    }
    const pass: ScrubPass = { startedAt: current.startedAt, finishedAt: now(), objects: current.objects, bytes: current.bytes, findings: current.findings, skipped };
    state.current = null;
    state.last = pass;
    await save(true);
    options.onProgress?.(pass);
    return { finished: true, pass };
  } finally {
    clearInterval(pacing);
    options.signal?.removeEventListener('abort', onAbort);
    if (state.current && !diskMissing) await save(true).catch(() => undefined);
    await reader.close();
  }
}

/**
 * The findings of one repository are repaired (or accepted): they no longer
 * wait. With `file`, only that file's finding (it was put back whole).
 */
export async function settleFindings(root: string, repo: string, syncer: Syncer, file?: string): Promise<void> {
  await recordLocks.run(root, async () => {
    const state = await readScrubState(root);
    if (file !== undefined) {
      await saveScrubState(root, { ...state, open: state.open.filter((finding) => finding.repo !== repo || finding.file !== file) }, syncer);
      return;
    }
    await saveScrubState(root, { ...state, open: state.open.filter((finding) => finding.repo !== repo), settled: { ...state.settled, [repo]: now() } }, syncer);
  });
}
