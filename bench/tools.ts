import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';

// Helpers shared by the benchmark and the stress run.

export interface Started {
  child: ChildProcess;
  port: number;
  /** Everything the process printed so far (both streams). */
  output(): string;
}

/** Starts a server process and waits for its "start server on host:port" line (ours prints it on stdout, rest-server on stderr). */
export function startProcess(command: string, args: string[]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args);
    let out = '';
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /start server on .*:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]), output: () => out });
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => reject(new Error(`${command} exited ${code}: ${out}`)));
  });
}

/** Starts the built command line on 127.0.0.1 (a free port unless given) with these flags; `node` gets `nodeFlags`. */
export function startServer(dataDir: string, auth: string[] = ['--no-auth'], port = 0, nodeFlags: string[] = []): Promise<Started> {
  return startProcess(process.execPath, [...nodeFlags, 'dist/server/cli.js', '--path', dataDir, ...auth, '--listen', `127.0.0.1:${port}`]);
}

/** One request to 127.0.0.1 through `agent` (HTTPS when it is an HTTPS agent); anything but 200 rejects. */
export function call(port: number, agent: Agent, method: string, path: string, body?: Buffer, headers?: Record<string, string>): Promise<Buffer> {
  const send = agent instanceof TlsAgent ? tlsRequest : request;
  return new Promise((resolve, reject) => {
    const req = send({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Peak resident memory of a process, from Linux's VmHWM. */
export function peakRss(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** CPU seconds (user + system, all threads) a process used so far, from Linux's /proc/<pid>/stat. */
export const cpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/stat`);

/** CPU seconds a process's main thread (the one whose id is the process's) used so far: for Node, the event loop's thread. */
export const mainThreadCpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);

function statCpuSeconds(file: string): number {
  const stat = readFileSync(file, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function timed(task: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Pack i of `size` bytes: the same random bytes with its number in front, so every pack differs. */
export function packMaker(size: number): (i: number) => Buffer {
  const base = randomBytes(size);
  return (i) => {
    const data = Buffer.from(base);
    data.writeUInt32BE(i, 0);
    return data;
  };
}

/** Runs `task` for 0 to count - 1, `connections` at a time. */
export async function inParallel(count: number, connections: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Writes dirty pages out and drops the page cache, so that the next read comes from the disk; false when not allowed (not root): reads may then come from memory. */
export function dropCaches(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}
