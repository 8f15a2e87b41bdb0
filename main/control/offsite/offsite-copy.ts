import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile, isTempName } from '../../../server/atomic-write.js';
import { isObjectId } from '../../../server/repo-path.js';
import { runRclone, type RcloneOptions, type RcloneStats } from './rclone.js';
import { RcloneSession, type RcloneJob } from './rclone-session.js';
import { describeFailure } from './offsite-words.js';

/**
 * What goes first: a repository's `config` and `keys`, then its packs, then
 * the indexes that name them, then the snapshots that need them, so that at
 * every moment the copy is a repository restic can read, whose snapshots
 * refer only to data that is already there. Locks are never copied.
 */
export const COPY_STEPS = [
  // Disks that take turns hold the same config and keys, each written at its own time: they are compared by content, not time.
  { name: 'config and keys', folders: ['config', 'keys/**'], byContent: true },
  { name: 'data', folders: ['data/**'], byContent: false },
  { name: 'indexes', folders: ['index/**'], byContent: false },
  { name: 'snapshots', folders: ['snapshots/**'], byContent: false },
] as const;

export interface CopyProgress {
  step: (typeof COPY_STEPS)[number]['name'];
  stats: RcloneStats;
}

/** A failure says what went wrong in words (`problem`), and keeps rclone's own text (`details`). */
export type CopyOutcome = { ok: true; bytes: number; files: number } | { ok: false; stopped: boolean; problem: string; details: string | null };

/** rclone's filter path for a repository's folder (`alice/laptop`, or '' for the data folder itself). */
const under = (repo: string, path: string): string => `/${repo === '' ? '' : `${repo}/`}${path}`;

/** The filter rules of one step: temp files out, the step's folders of every repository in, everything else out. */
export function filterRules(repos: string[], folders: readonly string[]): string[] {
  return [
    '- .rts-tmp-*',
    '- *.rest-server-temp*',
    ...repos.flatMap((repo) => folders.map((folder) => `+ ${under(repo, folder)}`)),
    '- **',
  ];
}

/** A file or folder under an rclone remote (`name:`, `name:folder` or a local folder). */
export const joinRemote = (remote: string, name: string): string => (remote.endsWith(':') || remote.endsWith('/') ? `${remote}${name}` : `${remote}/${name}`);

/**
 * A copy that was stopped or killed leaves its last file cut off under its
 * final name, and `--immutable` then refuses it for ever. Every restic object
 * is named by the SHA-256 of its contents, so the two sides can be told
 * apart: when the disk's file hashes to its name and the copy's does not,
 * the copy's is unfinished (or rotted there) and is deleted so that it is
 * copied again. A file the disk holds damaged (or that ransomware changed)
 * never replaces the copy's; the integrity check finds it. True when
 * something was deleted.
 */
async function removeUnfinished(options: RcloneOptions & { root: string; remote: string }, files: string[]): Promise<boolean> {
  let removed = false;
  for (const file of new Set(files)) {
    const local = join(options.root, ...file.split('/'));
    const name = file.slice(file.lastIndexOf('/') + 1);
    // Only objects: `config` has no name to check the disk's contents against.
    if (!isObjectId(name) || (await hashFile(local).catch(() => null)) !== name) continue;
    const wanted = name;
    const there = joinRemote(options.remote, file);
    const hashed = await runRclone(['hashsum', 'sha256', '--download', there], options);
    if (hashed.code !== 0 || hashed.output.split(/\s/)[0] === wanted) continue;
    const deleted = await runRclone(['deletefile', there], options);
    removed ||= deleted.code === 0;
  }
  return removed;
}

/**
 * The rclone a copy (or a rebuild) runs in, at a lower priority: never
 * overwriting (`--immutable`), at most `bandwidth` (rclone's `--bwlimit`).
 */
export function openCopySession(options: RcloneOptions & { bandwidth?: string; leftoverFile?: string }): Promise<RcloneSession> {
  return RcloneSession.open({ ...options, background: true, flags: ['--immutable', ...(options.bandwidth ? ['--bwlimit', options.bandwidth] : [])] });
}

/** The files under `remote` that these filter rules let through (relative paths). */
export async function listFiles(rclone: RcloneSession, remote: string, rules: string[]): Promise<RcloneJob & { files: string[] }> {
  const listed = await rclone.job('operations/list', { fs: remote, remote: '', opt: { recurse: true, filesOnly: true }, _filter: { FilterRule: rules } });
  const entries = Array.isArray(listed.result?.list) ? (listed.result.list as { Path: string }[]) : [];
  return { ...listed, files: entries.map((entry) => entry.Path) };
}

/**
 * Copies `files` (relative paths, listed before the first step) from `from`
 * to `to`, step by step in the order above, in `rclone` (a session opened
 * by `openCopySession`). When a step fails on files that `mend` can
 * remove, it is run once more. Both ways go through here: the disk to the
 * copy, and the copy onto a new disk.
 */
export async function copyInOrder(
  rclone: RcloneSession,
  options: { from: string; to: string; files: string[]; repos: string[]; place?: string; onProgress?: (progress: CopyProgress) => void; mend: (failed: string[]) => Promise<boolean> },
): Promise<CopyOutcome> {
  const lists = await mkdtemp(join(tmpdir(), 'rts-copy-'));
  let bytes = 0;
  let files = 0;
  try {
    for (const [index, step] of COPY_STEPS.entries()) {
      const list = join(lists, `step-${index}`);
      await writeFile(list, `${options.files.filter((file) => inStep(file, options.repos, step.folders)).join('\n')}\n`);
      const copyStep = () =>
        rclone.job('sync/copy', { srcFs: options.from, dstFs: options.to, _filter: { FilesFromRaw: [list] }, ...(step.byContent ? { _config: { CheckSum: true } } : {}) }, (stats) => options.onProgress?.({ step: step.name, stats }));
      let run = await copyStep();
      if (!run.ok && !run.stopped && (await options.mend(run.failedFiles))) run = await copyStep();
      if (run.stopped) return { ok: false, stopped: true, problem: 'Stopped before the end.', details: null };
      if (!run.ok) return { ok: false, stopped: false, ...describeFailure(run.errors, null, options.place) };
      bytes += run.stats?.bytes ?? 0;
      files += run.stats?.transfers ?? 0;
    }
  } finally {
    await rm(lists, { recursive: true, force: true });
  }
  return { ok: true, bytes, files };
}

/**
 * Copies the repositories of the data folder `root` to `remote` (an rclone
 * remote and path, `name:folder`, or a local folder). Files already there
 * are skipped; a file that is there with other contents is an error, never
 * overwritten, except an unfinished one (see `removeUnfinished`). Nothing
 * else is deleted on the copy: deletions wait (see offsite-journal.ts).
 * Returns with the files it listed on the disk at the start.
 */
export async function copyRepositories(
  rclone: RcloneSession,
  options: RcloneOptions & { root: string; repos: string[]; remote: string; place?: string; onProgress?: (progress: CopyProgress) => void },
): Promise<CopyOutcome & { listed: Set<string> }> {
  // The files as they are now: a snapshot written during the copy is left for the next one, because
  // its packs may have come after the data step; every snapshot already there has its packs there too.
  const listed = await filesOnDisk(options.root, options.repos);
  const outcome = await copyInOrder(rclone, { ...options, from: options.root, to: options.remote, files: [...listed], mend: (failed) => removeUnfinished(options, failed) });
  return { ...outcome, listed };
}

/** Whether a file (relative to the backup folder) belongs to a step: `config`, or a file under one of its folders, of one of the repositories. */
function inStep(file: string, repos: string[], folders: readonly string[]): boolean {
  return repos.some((repo) => {
    const prefix = repo === '' ? '' : `${repo}/`;
    if (!file.startsWith(prefix)) return false;
    const inside = file.slice(prefix.length);
    return folders.some((folder) => (folder.endsWith('/**') ? inside.startsWith(folder.slice(0, -2)) : inside === folder));
  });
}

/**
 * The files of the repositories that are copied, relative to the backup
 * folder (no locks, no temp files). As rclone (without -L/--copy-links)
 * copies no link, nothing behind one is listed: lstat for the folders
 * readdir would otherwise follow, and readdir's own entry types below.
 */
async function filesOnDisk(root: string, repos: string[]): Promise<Set<string>> {
  const files = new Set<string>();
  const real = (path: string, kind: 'file' | 'folder') => lstat(path).then((info) => (kind === 'file' ? info.isFile() : info.isDirectory()), () => false);
  for (const repo of repos) {
    const folder = join(root, ...repo.split('/').filter(Boolean));
    const prefix = repo === '' ? '' : `${repo}/`;
    if (await real(join(folder, 'config'), 'file')) files.add(`${prefix}config`);
    for (const name of ['keys', 'data', 'index', 'snapshots']) {
      if (!(await real(join(folder, name), 'folder'))) continue;
      const entries = await readdir(join(folder, name), { recursive: true, withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (!entry.isFile() || isTempName(entry.name) || entry.name.includes('.rest-server-temp')) continue;
        const inside = join(entry.parentPath, entry.name).slice(folder.length + 1).split('\\').join('/');
        files.add(`${prefix}${inside}`);
      }
    }
  }
  return files;
}
