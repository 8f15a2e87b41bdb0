import { mkdtemp, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { DownloadFormat, EmergencySheet, SearchResult, SnapshotFolder, SnapshotView, TransferView } from '../../contract.js';
import { formatBytes } from '../../common/format-bytes.js';
import { UserError } from '../core/errors.js';
import { YoungCollections } from '../core/young-collections.js';
import { readSnapshots } from '../core/restic-json.js';
import type { ComputerRecord } from '../core/settings.js';
import type { Shared } from '../core/shared.js';
import { buildSheet } from './emergency-sheet.js';
import { measure, place } from './placing.js';
import { baseName, downloadName, includePattern, readFind, readNode, searchPattern } from './restic-listings.js';
import { SnapshotFolders } from './snapshot-folders.js';
import { FETCH_WITHIN_MS, Transfers, type Transfer } from './transfers.js';

/** How often a restore, or a download saved on the desktop, measures what restic has written. */
const PROGRESS_MS = 1000;

type Outcome = { ok: boolean; failure: string | null };

/** Why a download could not be saved where the save dialog said, and what to do about it. */
function notSaved(error: unknown, destination: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const folder = dirname(destination);
  const again = 'Download it again and choose another folder.';
  if (code === 'ENOENT') return `It could not be saved: the folder ${folder} is no longer there. ${again}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `It could not be saved: this app may not write in ${folder}. ${again}`;
  return `It could not be saved in ${folder} (${code ?? (error as Error).message}). ${again}`;
}

/** restic for a computer with its kept password, against its backups on the disk in use (the caretaker runs it). */
export interface ResticAccess {
  run(username: string, args: string[], purpose: string, json?: boolean): Promise<Outcome & { json: unknown }>;
  /** `background`: at the lowest CPU priority, so that it does not slow down a download it measures. */
  stream(username: string, args: string[], purpose: string, background?: boolean): Promise<{ stdout: Readable; done: Promise<Outcome>; cancel(): void }>;
  /** As `stream`, restic writing its output straight into `fd`, an open file. */
  save(username: string, args: string[], purpose: string, fd: number): Promise<{ done: Promise<Outcome>; cancel(): void }>;
  /** The kept password, or null when none is kept. */
  keptPassword(username: string): Promise<string | null>;
  /** The commands that read a computer's backups from the offsite copy (null: there is none). */
  fromCopy(username: string): Promise<EmergencySheet['computers'][number]['fromCopy']>;
}

/** A download the headless bridge sends to the browser: its file name, and the bytes written into the response. */
export interface DownloadSource {
  fileName: string;
  send(to: Writable): Promise<void>;
}

/**
 * Getting files back from the backups on the desktop: a computer's snapshots,
 * its folders page by page, a search over every snapshot, a download (a file,
 * or a folder as .zip or .tar, streamed from `restic dump`), a restore into a
 * folder here that leaves existing files alone, and the emergency sheet.
 */
export class Restore {
  private readonly folders: SnapshotFolders;
  private readonly transfers = new Transfers();

  constructor(
    private readonly shared: Shared,
    private readonly restic: ResticAccess,
  ) {
    this.folders = new SnapshotFolders(restic);
  }

  /** Stops the read-ahead and every download and restore under way, and waits until each download and restore has cleaned up. */
  async close(): Promise<void> {
    this.folders.stopReadingAhead();
    const running = this.transfers.running();
    for (const transfer of running) this.transfers.end(transfer, 'cancelled', 'Cancelled: the app was quitting.');
    await Promise.all(running.map((transfer) => transfer.job));
  }

  async listSnapshots(input: { username: string }): Promise<SnapshotView[]> {
    const computer = this.computer(input.username);
    const result = await this.restic.run(computer.username, ['snapshots', '--no-lock'], `Listing the backups of ${computer.displayName}`, true);
    if (!result.ok) throw new UserError('restic-failed', `restic could not list ${computer.displayName}’s backups: ${result.failure}.`);
    return readSnapshots(result.json).map(({ excludes, ...view }) => view);
  }

  browseSnapshot(input: { username: string; snapshotId: string; path: string; offset?: number }): Promise<SnapshotFolder> {
    return this.folders.page(this.computer(input.username), input.snapshotId, input.path, input.offset ?? 0);
  }

  async searchBackups(input: { username: string; name: string }): Promise<SearchResult> {
    const computer = this.computer(input.username);
    const snapshots = await this.listSnapshots(input);
    const result = await this.restic.run(computer.username, ['find', '--no-lock', '--ignore-case', '--', searchPattern(input.name.trim())], `Looking for “${input.name.trim()}” in the backups of ${computer.displayName}`, true);
    if (!result.ok) throw new UserError('restic-failed', `restic could not search ${computer.displayName}’s backups: ${result.failure}.`);
    return readFind(result.json, snapshots);
  }

  /** In the desktop app the save dialog comes first; in headless mode the download waits for the browser to fetch it (`openDownload`). */
  async startDownload(input: { username: string; snapshotId: string; path: string; format: DownloadFormat }): Promise<TransferView | null> {
    const computer = this.computer(input.username);
    const name = downloadName(input.path, input.format, computer.displayName);
    const args = ['dump', ...(input.format === 'file' ? [] : ['--archive', input.format]), input.snapshotId, input.path];
    const run = { username: computer.username, args, purpose: `Downloading ${name} from the backups of ${computer.displayName}` };
    const ask = this.shared.options.askSaveFile;
    if (!ask) {
      const transfer = this.transfers.add('download', name, null, run);
      setTimeout(() => {
        if (transfer.view.state === 'waiting') this.transfers.end(transfer, 'failed', 'The browser did not start the download: try again.');
      }, FETCH_WITHIN_MS).unref();
      this.measureTotal(transfer, computer, input);
      return { ...transfer.view };
    }
    const destination = await ask(name);
    if (destination === null) return null;
    const transfer = this.transfers.add('download', name, destination, run);
    this.measureTotal(transfer, computer, input);
    transfer.job = this.save(transfer, destination);
    return { ...transfer.view };
  }

  /** The waiting download with this ID, for the headless bridge to send once; null when there is none. */
  openDownload(id: string): DownloadSource | null {
    const transfer = this.transfers.take(id);
    if (!transfer) return null;
    return {
      fileName: transfer.view.name,
      send: (to) => {
        transfer.job = this.pump(transfer, to);
        return transfer.job;
      },
    };
  }

  async restoreFolder(input: { username: string; snapshotId: string; path: string; target: string; replace: boolean }): Promise<TransferView> {
    const computer = this.computer(input.username);
    if (!(await stat(input.target).catch(() => undefined))?.isDirectory()) throw new UserError('no-folder', `There is no folder ${input.target}: choose a folder that exists.`);
    const name = baseName(input.path) || computer.displayName;
    const destination = input.path === '/' ? input.target : join(input.target, name);
    // restic writes into a folder of its own beside the files, which are then moved into place without replacing any (restic 0.14 would overwrite them).
    const staging = await mkdtemp(join(input.target, '.restoring-')).catch((error: NodeJS.ErrnoException) => {
      throw new UserError('cannot-write', `The app cannot write into ${input.target} (${error.code ?? error.message}): choose another folder.`);
    });
    const args = ['restore', input.snapshotId, '--target', staging, ...(input.path === '/' ? [] : ['--include', includePattern(input.path)])];
    const transfer = this.transfers.add('restore', name, destination, { username: computer.username, args, purpose: `Restoring ${name} from the backups of ${computer.displayName}` });
    this.measureTotal(transfer, computer, input);
    transfer.job = this.runRestore(transfer, staging, join(staging, input.path), destination, input.replace).finally(() => rm(staging, { recursive: true, force: true }));
    return { ...transfer.view };
  }

  transfer(input: { id: string }): Promise<TransferView> {
    return Promise.resolve({ ...this.transfers.get(input.id).view });
  }

  async cancelTransfer(input: { id: string }): Promise<TransferView> {
    const transfer = this.transfers.get(input.id);
    this.transfers.end(transfer, 'cancelled', 'Cancelled.');
    await transfer.job;
    return { ...transfer.view };
  }

  /** The sheet with every kept password; the live log says it was made, never what is on it. */
  async emergencySheet(): Promise<EmergencySheet> {
    const state = await this.shared.state();
    const passwords = new Map<string, string | null>();
    const fromCopy = new Map<string, EmergencySheet['computers'][number]['fromCopy']>();
    const backedUp = new Set<string>();
    for (const computer of state.computers) {
      passwords.set(computer.username, await this.restic.keptPassword(computer.username));
      fromCopy.set(computer.username, await this.restic.fromCopy(computer.username));
      if (state.storage && (await stat(join(state.storage.folder, computer.username, 'config')).catch(() => undefined))) backedUp.add(computer.username);
    }
    const kept = [...passwords.values()].filter((password) => password !== null).length;
    this.shared.emit('note', `The emergency sheet was shown, with ${kept} kept encryption password${kept === 1 ? '' : 's'}.`, 'info');
    return buildSheet(state, { passwords, fromCopy, backedUp }, new Date(this.shared.options.now?.() ?? Date.now()));
  }

  /** restic dump into `to` (the headless bridge's answer) as fast as `to` takes it; `to` is ended only when restic succeeded, so a failed download is never taken for a whole one. */
  private async pump(transfer: Transfer, to: Writable): Promise<void> {
    to.on('error', (error: NodeJS.ErrnoException) => this.transfers.end(transfer, 'failed', `It could not be written (${error.code ?? error.message}).`));
    let run: Awaited<ReturnType<ResticAccess['stream']>>;
    try {
      run = await this.restic.stream(transfer.username, transfer.args, transfer.purpose);
    } catch (error) {
      to.destroy();
      return this.transfers.end(transfer, 'failed', (error as Error).message);
    }
    this.transfers.stopWith(transfer, () => to.destroy());
    this.transfers.stopWith(transfer, run.cancel);
    let ending = false;
    // The browser's own cancel (or a closed tab, or a file that cannot be written) closes `to` before restic is done.
    const closed = () => {
      if (ending) return;
      this.transfers.end(transfer, 'cancelled', 'Cancelled.');
      run.cancel();
    };
    if (to.destroyed) closed();
    to.on('close', closed);
    const collections = new YoungCollections();
    run.stdout.on('data', (chunk: Buffer) => {
      transfer.view.bytes += chunk.length;
      collections.passed(chunk.length);
    });
    run.stdout.pipe(to, { end: false });
    const outcome = await run.done;
    ending = true;
    if (outcome.ok && !to.destroyed) {
      to.end();
      await finished(to).catch(() => undefined);
      this.transfers.end(transfer, 'done', `Downloaded ${transfer.view.name} (${formatBytes(transfer.view.bytes)}).`);
    } else {
      to.destroy();
      this.transfers.end(transfer, 'failed', `It did not work: ${outcome.failure}.`);
    }
  }

  /** The desktop app's download: restic writes straight into `<destination>.part` (the bytes never pass through the app), renamed to `destination` only once restic succeeded, so a failed or cancelled download leaves nothing. */
  private async save(transfer: Transfer, destination: string): Promise<void> {
    const part = `${destination}.part`;
    let file: FileHandle;
    try {
      file = await open(part, 'w');
    } catch (error) {
      return this.transfers.end(transfer, 'failed', notSaved(error, destination));
    }
    const written = () => file.stat().then((stats) => (transfer.view.bytes = stats.size), () => undefined);
    /** Why it failed, in words; null while it worked. */
    let failure: string | null;
    try {
      const run = await this.restic.save(transfer.username, transfer.args, transfer.purpose, file.fd);
      this.transfers.stopWith(transfer, run.cancel);
      const progress = setInterval(() => void written(), PROGRESS_MS);
      const outcome = await run.done.finally(() => clearInterval(progress));
      failure = outcome.ok ? null : `It did not work: ${outcome.failure}.`;
    } catch (error) {
      failure = (error as Error).message;
    }
    await written();
    await file.close();
    if (failure === null && transfer.view.state === 'running') {
      failure = await rename(part, destination).then(
        () => null,
        (error: unknown) => notSaved(error, destination),
      );
      if (failure === null) return this.transfers.end(transfer, 'done', `Downloaded ${transfer.view.name} (${formatBytes(transfer.view.bytes)}).`);
    }
    await unlink(part).catch(() => undefined);
    // Without a failure it was cancelled, and has ended so already.
    this.transfers.end(transfer, 'failed', failure ?? 'Cancelled.');
  }

  private async runRestore(transfer: Transfer, staging: string, restored: string, destination: string, replace: boolean): Promise<void> {
    // The staging folder goes before the outcome shows: a finished restore leaves nothing of its own in the folder.
    const end = async (state: 'done' | 'failed', message: string) => {
      await rm(staging, { recursive: true, force: true });
      this.transfers.end(transfer, state, message);
    };
    let run: Awaited<ReturnType<ResticAccess['stream']>>;
    try {
      run = await this.restic.stream(transfer.username, transfer.args, transfer.purpose);
    } catch (error) {
      return end('failed', (error as Error).message);
    }
    this.transfers.stopWith(transfer, run.cancel);
    run.stdout.resume();
    const progress = setInterval(() => {
      void measure(staging).then((seen) => Object.assign(transfer.view, seen));
    }, PROGRESS_MS);
    const outcome = await run.done.finally(() => clearInterval(progress));
    if (!outcome.ok) return end('failed', `It did not work: ${outcome.failure}.`);
    try {
      const placed = await place(restored, destination, replace);
      Object.assign(transfer.view, { files: placed.files, bytes: placed.bytes, kept: placed.kept });
      const kept = placed.kept > 0 ? ` ${placed.kept} file${placed.kept === 1 ? ' was' : 's were'} already there and ${placed.kept === 1 ? 'was' : 'were'} left as ${placed.kept === 1 ? 'it was' : 'they were'}.` : '';
      await end('done', `Restored ${placed.files} file${placed.files === 1 ? '' : 's'} (${formatBytes(placed.bytes)}) into ${destination}.${kept}`);
    } catch (error) {
      await end('failed', `The restored files could not be put in place: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
    }
  }

  /** About how many bytes a download or restore has in all: restic lists what is under the path (metadata only, not the data), at the lowest CPU priority: restic 0.14's ls reads every folder beside the path too, which can take more CPU than the download itself. */
  private measureTotal(transfer: Transfer, computer: ComputerRecord, input: { snapshotId: string; path: string }): void {
    const purpose = `Measuring ${transfer.view.name} in the backups of ${computer.displayName}`;
    void this.restic.stream(computer.username, ['ls', '--no-lock', '--json', '--recursive', input.snapshotId, input.path], purpose, true).then(
      async (run) => {
        this.transfers.stopWith(transfer, run.cancel);
        const inside = input.path === '/' ? '/' : `${input.path}/`;
        let total = 0;
        for await (const line of createInterface({ input: run.stdout, crlfDelay: Infinity })) {
          const node = readNode(line);
          if (node && (node.path === input.path || node.path.startsWith(inside))) total += node.sizeBytes ?? 0;
        }
        if ((await run.done).ok) transfer.view.totalBytes = total;
      },
      () => undefined,
    );
  }

  private computer(username: string): ComputerRecord {
    const computer = this.shared.computer(username);
    if (!computer) throw new UserError('not-found', 'There is no such computer. Reload the page.');
    return computer;
  }
}
