import { constants, type Dirent, type Stats } from 'node:fs';
import { lstat, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { isTempName, writeAtomically, type WriteResult } from './atomic-write.js';
import { httpErrors } from './errors.js';
import type { Syncer } from './fsync.js';
import { KeyedLock } from './keyed-lock.js';
import { asLinkRefusal, LinkRefusedError, makeFolder, NO_FOLLOW, requireFolders } from './links.js';
import { isObjectId, OBJECT_TYPES, type ObjectType } from './repo-path.js';

export interface ObjectInfo {
  name: string;
  size: number;
}

export interface StorageOptions {
  dirMode: number;
  fileMode: number;
}

const HEX_PAIR = /^[0-9a-f]{2}$/;
const DATA_SUBFOLDERS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Stats at most this many files at once when a v2 listing needs sizes. */
const STAT_CONCURRENCY = 32;

const isMissing = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const repoNotFound = () => httpErrors.notFound('repository not found: create it first (restic init)');

/**
 * The on-disk layout of restic's local backend under one data folder:
 * `<repo>/config`, `<repo>/data/<id[0:2]>/<id>`, `<repo>/<type>/<id>`.
 * Every path it builds is checked to stay inside the data folder, and no
 * folder or file on the way may be a symbolic link (see links.ts): the
 * folders are looked at on every request, nothing is cached, because a
 * folder checked once can be swapped for a link the next moment. Small
 * uploads, the one path where that costs, are checked by the upload worker
 * in the same message as the save (a few microseconds of `lstat`).
 */
export class Storage {
  readonly root: string;
  /** Per file path: a rename over a file and a delete of it never interleave (the quota counts both). */
  private readonly locks = new KeyedLock();

  constructor(
    root: string,
    private readonly syncer: Syncer,
    private readonly options: StorageOptions,
    /** Told of each link a listing passed over (the folder's other objects are still listed). */
    private readonly onSkippedLink: (path: string) => void = () => undefined,
  ) {
    this.root = resolve(root);
  }

  private inside(...parts: string[]): string {
    const full = resolve(this.root, ...parts);
    const rel = relative(this.root, full);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw httpErrors.badRequest('path leaves the data folder');
    }
    return full;
  }

  repoFolder(repo: readonly string[]): string {
    return this.inside(...repo);
  }

  configPath(repo: readonly string[]): string {
    return this.inside(...repo, 'config');
  }

  objectPath(repo: readonly string[], type: ObjectType, id: string): string {
    return type === 'data' ? this.inside(...repo, type, id.slice(0, 2), id) : this.inside(...repo, type, id);
  }

  /** The folders from the data folder (not included: it is the disk guard's) to `repo`'s, outermost first. */
  private repoFolders(repo: readonly string[]): string[] {
    return repo.map((_, index) => this.repoFolder(repo.slice(0, index + 1)));
  }

  /** The folders from the data folder to a file of the repository, outermost first. */
  private foldersOf(path: string, repo: readonly string[]): string[] {
    const folders = this.repoFolders(repo);
    const inner = relative(this.repoFolder(repo), path).split(sep).slice(0, -1);
    for (let depth = 1; depth <= inner.length; depth++) folders.push(join(this.repoFolder(repo), ...inner.slice(0, depth)));
    return folders;
  }

  /** Creates the repository's folders; creating an existing one is fine, one that is a link is refused. */
  async createRepo(repo: readonly string[]): Promise<void> {
    const folder = this.repoFolder(repo);
    const mode = this.options.dirMode;
    for (const level of this.repoFolders(repo)) await makeFolder(level, mode);
    for (const type of OBJECT_TYPES) await makeFolder(join(folder, type), mode);
    await Promise.all(DATA_SUBFOLDERS.map((sub) => makeFolder(join(folder, 'data', sub), mode)));
    await this.syncer.syncFolder(folder);
  }

  /** A repository exists once it was created: its `keys` folder is there. */
  async repoExists(repo: readonly string[]): Promise<boolean> {
    try {
      await requireFolders([...this.repoFolders(repo), join(this.repoFolder(repo), 'keys')]);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /**
   * The size of a file about to be replaced, undefined when there is none.
   * Its folders are not looked at here: the write checks them (on the
   * upload worker, where it costs least), and refuses before writing.
   */
  async existingSize(path: string): Promise<number | undefined> {
    try {
      const info = await lstat(path);
      if (info.isSymbolicLink()) throw new LinkRefusedError(path);
      return info.size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Throws unless every folder from the data folder to `path` is a real folder (no link). */
  async checkFolders(repo: readonly string[], path: string): Promise<void> {
    await requireFolders(this.foldersOf(path, repo));
  }

  /** The file's own `lstat`, once its folders were found to be real ones (both looked at together: one wait). */
  private async lstatIn(repo: readonly string[], path: string): Promise<Stats> {
    const [file, folders] = await Promise.allSettled([lstat(path), requireFolders(this.foldersOf(path, repo))]);
    if (folders.status === 'rejected') throw folders.reason;
    if (file.status === 'rejected') throw file.reason;
    return file.value;
  }

  /** The size of a file of `repo`; a link on the way, or in the file's place, is refused. */
  async size(repo: readonly string[], path: string): Promise<number> {
    const info = await this.lstatIn(repo, path);
    if (info.isSymbolicLink()) throw new LinkRefusedError(path);
    if (!info.isFile()) throw httpErrors.notFound();
    return info.size;
  }

  /** Opens a file of `repo` for reading; the size comes from the same handle, so it matches what is sent. */
  async openForRead(repo: readonly string[], path: string): Promise<{ handle: FileHandle; size: number }> {
    // The folders are checked before the file is opened: a file reached through a link is never opened.
    await this.checkFolders(repo, path);
    const handle = await open(path, constants.O_RDONLY | NO_FOLLOW).catch((error: unknown) => Promise.reject(asLinkRefusal(error, path)));
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw httpErrors.notFound();
      return { handle, size: info.size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async saveConfig(repo: readonly string[], body: Readable, take?: (bytes: number) => void): Promise<WriteResult> {
    if (!(await this.repoExists(repo))) throw repoNotFound();
    const path = this.configPath(repo);
    const folders = { paths: this.repoFolders(repo), makeLast: false, mode: this.options.dirMode };
    return writeAtomically(path, body, { mode: this.options.fileMode, syncer: this.syncer, take, exclusive: this.exclusive(path), folders });
  }

  /**
   * Stores an object. Its type folder must exist (the repository was created);
   * only the `data/XX` level is made on demand, as restic's local backend does.
   */
  async saveObject(
    repo: readonly string[],
    type: ObjectType,
    id: string,
    body: Readable,
    verify: boolean,
    take?: (bytes: number) => void,
  ): Promise<WriteResult> {
    const path = this.objectPath(repo, type, id);
    // Only the `data/XX` level is made here; the folders are checked where the temp file is made.
    const folders = { paths: this.foldersOf(path, repo), makeLast: type === 'data', mode: this.options.dirMode };
    const options = { mode: this.options.fileMode, syncer: this.syncer, expectSha256: verify ? id : undefined, take, exclusive: this.exclusive(path), folders };
    try {
      return await writeAtomically(path, body, options);
    } catch (error) {
      if (isMissing(error)) throw repoNotFound();
      throw error;
    }
  }

  private exclusive(path: string): <T>(task: () => Promise<T>) => Promise<T> {
    return (task) => this.locks.run(path, task);
  }

  /**
   * Deletes a file of a repository; resolves with the bytes it held. A file
   * that is not there frees nothing and is no error (deleting is idempotent,
   * as in rest-server: restic retries a delete whose answer was lost), but
   * the repository itself must exist.
   */
  async remove(repo: readonly string[], path: string): Promise<number> {
    const freed = await this.locks.run(path, async () => {
      try {
        // A link in the file's place is removed itself (nothing is followed); it held no bytes of the quota.
        const info = await this.lstatIn(repo, path);
        await unlink(path);
        return info.isFile() ? info.size : 0;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    });
    if (freed !== undefined) return freed;
    if (!(await this.repoExists(repo))) throw repoNotFound();
    return 0;
  }

  /** Lists the valid object ids of a type, with sizes when asked. */
  async listObjects(repo: readonly string[], type: ObjectType, withSizes: boolean): Promise<ObjectInfo[]> {
    const folder = join(this.repoFolder(repo), type);
    let paths: string[];
    try {
      await requireFolders([...this.repoFolders(repo), folder]);
      paths = type === 'data' ? await this.listDataFolder(folder) : await this.objectFilesIn(folder);
    } catch (error) {
      if (isMissing(error)) throw repoNotFound();
      throw error;
    }
    const result: ObjectInfo[] = paths.map((path) => ({ name: path.slice(path.lastIndexOf(sep) + 1), size: 0 }));
    if (!withSizes) return result;
    const kept: ObjectInfo[] = [];
    for (let i = 0; i < paths.length; i += STAT_CONCURRENCY) {
      const batch = paths.slice(i, i + STAT_CONCURRENCY);
      const sizes = await Promise.all(batch.map((path) => lstat(path).then((s) => (s.isFile() ? s.size : -1), () => -1)));
      sizes.forEach((size, j) => {
        // A file deleted between the listing and its stat is simply gone.
        if (size >= 0) kept.push({ name: (result[i + j] as ObjectInfo).name, size });
      });
    }
    return kept;
  }

  private async listDataFolder(folder: string): Promise<string[]> {
    const subfolders = (await readdir(folder, { withFileTypes: true })).filter((entry) => HEX_PAIR.test(entry.name) && this.realFolder(folder, entry));
    const lists = await Promise.all(
      subfolders.map((entry) => this.objectFilesIn(join(folder, entry.name)).catch((error) => (isMissing(error) ? [] : Promise.reject(error)))),
    );
    return lists.flat();
  }

  /** Whether a folder's entry is a real folder; a link is passed over (and told). Dirent types are those of the entry itself, never followed. */
  private realFolder(folder: string, entry: Dirent): boolean {
    if (entry.isSymbolicLink()) this.onSkippedLink(join(folder, entry.name));
    return entry.isDirectory();
  }

  private async objectFilesIn(folder: string): Promise<string[]> {
    const files: string[] = [];
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (!isObjectId(entry.name)) continue;
      if (entry.isFile()) files.push(join(folder, entry.name));
      else if (entry.isSymbolicLink()) this.onSkippedLink(join(folder, entry.name));
    }
    return files;
  }

  /**
   * Removes temp files left by uploads that were interrupted (crash, power
   * cut), in repositories up to two folders deep.
   */
  async removeTempFiles(): Promise<number> {
    const walk = async (folder: string, depth: number): Promise<number> => {
      let entries: Dirent[];
      try {
        entries = await readdir(folder, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return 0;
        throw error;
      }
      let removed = 0;
      for (const entry of entries) {
        if (isTempName(entry.name) && entry.isFile()) {
          await unlink(join(folder, entry.name)).catch(() => undefined);
          removed++;
        } else if (depth > 0 && entry.isDirectory() && !entry.name.startsWith('.')) {
          removed += await walk(join(folder, entry.name), depth - 1);
        }
      }
      return removed;
    };
    // repository folders (2) + type folder (1) + data/XX (1)
    return walk(this.root, 4);
  }
}
