import type { Dirent } from 'node:fs';
import { chmod, mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { isTempName, writeAtomically, type WriteResult } from './atomic-write.js';
import { httpErrors } from './errors.js';
import type { Syncer } from './fsync.js';
import { KeyedLock } from './keyed-lock.js';
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
 * Every path it builds is checked to stay inside the data folder.
 */
export class Storage {
  readonly root: string;
  /** Per file path: a rename over a file and a delete of it never interleave (the quota counts both). */
  private readonly locks = new KeyedLock();

  constructor(
    root: string,
    private readonly syncer: Syncer,
    private readonly options: StorageOptions,
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

  /** mkdir with the folder mode; group bits are set explicitly, as the umask would clear them. */
  private async makeFolder(path: string): Promise<void> {
    try {
      await mkdir(path, { mode: this.options.dirMode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return;
    }
    if (this.options.dirMode & 0o070) await chmod(path, this.options.dirMode);
  }

  /** Creates the repository's folders; creating an existing one is fine. */
  async createRepo(repo: readonly string[]): Promise<void> {
    const folder = this.repoFolder(repo);
    for (let depth = 1; depth <= repo.length; depth++) await this.makeFolder(this.repoFolder(repo.slice(0, depth)));
    for (const type of OBJECT_TYPES) await this.makeFolder(join(folder, type));
    await Promise.all(DATA_SUBFOLDERS.map((sub) => this.makeFolder(join(folder, 'data', sub))));
    await this.syncer.syncFolder(folder);
  }

  /** A repository exists once it was created: its `keys` folder is there. */
  async repoExists(repo: readonly string[]): Promise<boolean> {
    try {
      return (await stat(join(this.repoFolder(repo), 'keys'))).isDirectory();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** The size of a file, undefined when there is none. */
  async existingSize(path: string): Promise<number | undefined> {
    try {
      return (await stat(path)).size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async size(path: string): Promise<number> {
    const info = await stat(path);
    if (!info.isFile()) throw httpErrors.notFound();
    return info.size;
  }

  /** Opens a file for reading; the size comes from the same handle, so it matches what is sent. */
  async openForRead(path: string): Promise<{ handle: FileHandle; size: number }> {
    const handle = await open(path, 'r');
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
    return writeAtomically(path, body, { mode: this.options.fileMode, syncer: this.syncer, take, exclusive: this.exclusive(path) });
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
    const options = { mode: this.options.fileMode, syncer: this.syncer, expectSha256: verify ? id : undefined, take, exclusive: this.exclusive(path) };
    if (type === 'data') {
      try {
        await this.makeFolder(join(this.repoFolder(repo), 'data', id.slice(0, 2)));
      } catch (error) {
        if (isMissing(error)) throw repoNotFound();
        throw error;
      }
    }
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
        const { size } = await stat(path);
        await unlink(path);
        return size;
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
      paths = type === 'data' ? await this.listDataFolder(folder) : await objectFilesIn(folder);
    } catch (error) {
      if (isMissing(error)) throw repoNotFound();
      throw error;
    }
    const result: ObjectInfo[] = paths.map((path) => ({ name: path.slice(path.lastIndexOf(sep) + 1), size: 0 }));
    if (!withSizes) return result;
    const kept: ObjectInfo[] = [];
    for (let i = 0; i < paths.length; i += STAT_CONCURRENCY) {
      const batch = paths.slice(i, i + STAT_CONCURRENCY);
      const sizes = await Promise.all(batch.map((path) => stat(path).then((s) => s.size, () => -1)));
      sizes.forEach((size, j) => {
        // A file deleted between the listing and its stat is simply gone.
        if (size >= 0) kept.push({ name: (result[i + j] as ObjectInfo).name, size });
      });
    }
    return kept;
  }

  private async listDataFolder(folder: string): Promise<string[]> {
    const subfolders = (await readdir(folder, { withFileTypes: true })).filter(
      (entry) => entry.isDirectory() && HEX_PAIR.test(entry.name),
    );
    const lists = await Promise.all(
      subfolders.map((entry) => objectFilesIn(join(folder, entry.name)).catch((error) => (isMissing(error) ? [] : Promise.reject(error)))),
    );
    return lists.flat();
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

async function objectFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory() && isObjectId(entry.name)).map((entry) => join(folder, entry.name));
}
