import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { createSyncer } from '../../../server/fsync.js';
import { USERNAME } from '../../../server/htpasswd.js';
import { Storage } from '../../../server/storage.js';
import { readCheckedFile, writeFileAtomically } from '../core/files.js';

/** restic's config and key files are a few hundred bytes; anything bigger is not one. */
const MAX_FILE_BYTES = 16 * 1024;
/** A repository has one key per password; a household needs a handful. */
const MAX_KEYS = 32;
const MAX_REPOS = 1000;

const base64 = z.string().max(Math.ceil(MAX_FILE_BYTES / 3) * 4 + 4);
const identitySchema = z.strictObject({
  config: base64,
  keys: z.record(z.string().regex(/^[0-9a-f]{64}$/), base64),
  seenAt: z.iso.datetime(),
});
const fileSchema = z.strictObject({
  version: z.literal(1),
  repos: z.record(z.string().regex(USERNAME), identitySchema),
});

type Identity = z.infer<typeof identitySchema>;
type IdentityFile = z.infer<typeof fileSchema>;

export const IDENTITIES_FILE = 'repository-identities.json';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const isMissing = (error: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** What laying out a disk did: repositories made, keys added, and what could not be done (per repository, in words). */
export interface LayoutOutcome {
  laidOut: string[];
  keysAdded: string[];
  failed: { repo: string; message: string }[];
}

/**
 * restic knows a repository by its `config` and `keys/` files: small, and
 * encrypted already. A copy of them, kept in the config folder as they
 * appear on the disk in use, lets the app lay out the same repository on
 * another disk of the rotation (the same id, the same passwords, empty
 * otherwise) without knowing any password, so a computer backs up to
 * whichever disk is plugged in. Files are read and written through the
 * server's storage: never through a link, written atomically.
 */
export class RepoIdentities {
  private data: IdentityFile | undefined;
  private readonly syncer = createSyncer(() => undefined);

  constructor(
    private readonly file: string,
    /** Told when the file was damaged and moved aside. */
    private readonly onDamaged: (message: string) => void,
  ) {}

  private async load(): Promise<IdentityFile> {
    if (!this.data) {
      const read = await readCheckedFile(this.file, fileSchema);
      if (read.state === 'damaged') this.onDamaged(`The copy of the repositories’ keys was damaged (${read.what}). It was kept as ${read.aside}; it is made again from the disk in use.`);
      this.data = read.state === 'read' ? read.value : { version: 1, repos: {} };
    }
    return this.data;
  }

  private save(data: IdentityFile): Promise<void> {
    return writeFileAtomically(this.file, `${JSON.stringify(data)}\n`);
  }

  private storage(root: string): Storage {
    return new Storage(root, this.syncer, { dirMode: 0o700, fileMode: 0o600 });
  }

  /** Whether the app holds a copy of this repository's identity. */
  async has(repo: string): Promise<boolean> {
    return (await this.load()).repos[repo] !== undefined;
  }

  /**
   * Copies a repository's config and keys from the disk at `root`. A config
   * unlike the copy's (the repository was made anew) replaces the copy;
   * otherwise keys are added to it. `onlyNew`: leave a repository already
   * copied as it is (a disk looked at when it comes in).
   */
  async remember(root: string, repo: string, now: Date, onlyNew = false): Promise<void> {
    const data = await this.load();
    const known = data.repos[repo];
    if (onlyNew && known) return;
    if (!known && Object.keys(data.repos).length >= MAX_REPOS) return;
    const read = await this.read(root, repo);
    if (!read) return;
    const same = known?.config === read.config;
    const keys = same ? { ...known.keys, ...read.keys } : read.keys;
    if (same && Object.keys(keys).length === Object.keys(known.keys).length) return;
    data.repos[repo] = { config: read.config, keys: Object.fromEntries(Object.entries(keys).slice(0, MAX_KEYS)), seenAt: now.toISOString() };
    await this.save(data);
  }

  /** A key removed on the disk in use (restic key remove) is no longer laid out on other disks. */
  async forgetKey(repo: string, id: string): Promise<void> {
    const data = await this.load();
    const known = data.repos[repo];
    if (!known?.keys[id]) return;
    delete known.keys[id];
    await this.save(data);
  }

  /**
   * Lays out, on the disk at `root`, each of `repos` it lacks and the app
   * holds a copy of: restic's folders, the keys and the config (written
   * last: restic sees no repository until it is there). A folder holding
   * files but no config (someone else's start) is left alone. A repository
   * with the same config gets the keys it lacks.
   */
  async layOut(root: string, repos: string[]): Promise<LayoutOutcome> {
    const data = await this.load();
    const storage = this.storage(root);
    const outcome: LayoutOutcome = { laidOut: [], keysAdded: [], failed: [] };
    for (const repo of repos) {
      const copy = data.repos[repo];
      if (!copy) continue;
      try {
        const config = Buffer.from(copy.config, 'base64');
        const onDisk = await this.readFile(storage, [repo], storage.configPath([repo]));
        if (onDisk === undefined) {
          if (await holdsFiles(storage.repoFolder([repo]))) throw new Error(`its folder ${storage.repoFolder([repo])} holds files but no restic config`);
          await storage.createRepo([repo]);
          await this.addKeys(storage, repo, copy);
          await storage.saveConfig([repo], Readable.from([config]));
          outcome.laidOut.push(repo);
        } else if (onDisk.equals(config) && (await this.addKeys(storage, repo, copy)) > 0) {
          outcome.keysAdded.push(repo);
        }
      } catch (error) {
        outcome.failed.push({ repo, message: (error as Error).message });
      }
    }
    return outcome;
  }

  private async addKeys(storage: Storage, repo: string, copy: Identity): Promise<number> {
    const present = new Set((await storage.listObjects([repo], 'keys', false)).map((key) => key.name));
    let added = 0;
    for (const [id, content] of Object.entries(copy.keys)) {
      if (present.has(id)) continue;
      await storage.saveObject([repo], 'keys', id, Readable.from([Buffer.from(content, 'base64')]), true);
      added++;
    }
    return added;
  }

  /** The repository's config and keys as files on the disk; undefined when it has no config. Keys whose name is not their hash are left out. */
  private async read(root: string, repo: string): Promise<{ config: string; keys: Record<string, string> } | undefined> {
    const storage = this.storage(root);
    try {
      const config = await this.readFile(storage, [repo], storage.configPath([repo]));
      if (!config) return undefined;
      const keys: Record<string, string> = {};
      for (const { name } of (await storage.listObjects([repo], 'keys', false)).slice(0, MAX_KEYS)) {
        const content = await this.readFile(storage, [repo], storage.objectPath([repo], 'keys', name));
        if (content && sha256(content) === name) keys[name] = content.toString('base64');
      }
      return { config: config.toString('base64'), keys };
    } catch (error) {
      if (isMissing(error) || (error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  private async readFile(storage: Storage, repo: string[], path: string): Promise<Buffer | undefined> {
    let opened;
    try {
      opened = await storage.openForRead(repo, path);
    } catch (error) {
      if (isMissing(error) || (error as { status?: number }).status === 404) return undefined;
      throw error;
    }
    try {
      if (opened.size > MAX_FILE_BYTES) throw new Error(`${path} is too big for a restic config or key`);
      return await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
  }
}

/** Whether a folder holds anything but empty folders (a link counts: it is not followed). */
async function holdsFiles(folder: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || (await holdsFiles(join(folder, entry.name)))) return true;
  }
  return false;
}
