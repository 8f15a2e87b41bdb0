import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface ResticResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const RESTIC_PASSWORD = 'correct horse battery staple';

const cacheDir = tempDir('rts-restic-cache-');

/**
 * Starts Debian's restic against a repository (asynchronously: the server
 * under test may live in this same process and must keep serving).
 */
export function startRestic(repository: string, args: string[], options: { timeoutMs?: number } = {}): { child: ChildProcess; done: Promise<ResticResult> } {
  const child = spawn('restic', ['--repo', repository, '--no-cache', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: cacheDir,
      RESTIC_PASSWORD,
      RESTIC_CACHE_DIR: cacheDir,
    },
  });
  const done = new Promise<ResticResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

export function restic(repository: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ResticResult> {
  return startRestic(repository, args, options).done;
}

/** Fails with restic's own output when it did not exit 0. */
export async function resticOk(repository: string, args: string[], options?: { timeoutMs?: number }): Promise<string> {
  const result = await restic(repository, args, options);
  if (result.code !== 0) {
    throw new Error(`restic ${args.join(' ')} exited ${result.code}\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-1000)}`);
  }
  return result.stdout;
}

/** A folder of random (incompressible) files: `files` of `size` bytes in a few subfolders. */
export function makeSourceTree(files: number, size: number): string {
  const root = tempDir('rts-source-');
  for (let i = 0; i < files; i++) {
    const folder = join(root, `dir${i % 4}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `file${i}.bin`), randomBytes(size));
  }
  return root;
}

/** Relative path -> SHA-256 of every file under a folder. */
export function treeDigest(root: string): Record<string, string> {
  const digest: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    digest[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return digest;
}

export async function snapshotCount(repository: string): Promise<number> {
  return (JSON.parse(await resticOk(repository, ['snapshots', '--json'])) as unknown[]).length;
}
