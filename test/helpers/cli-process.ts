import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';

export const CLI = 'dist/server/cli.js';

export interface CliServer {
  child: ChildProcess;
  /** `host:port` or `unix:/path`, as printed on the "start server on" line. */
  address: string;
  url: string;
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Runs the built command line to completion. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the built command line and waits for its "start server on" line; `maxOpenFiles` sets its descriptor limit. */
export function startCli(args: string[], options: { maxOpenFiles?: number } = {}): Promise<CliServer> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, CLI, ...args];
    if (options.maxOpenFiles !== undefined) command.unshift('prlimit', `--nofile=${options.maxOpenFiles}`);
    const child = spawn(command[0] as string, command.slice(1));
    children.push(child);
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^start server on (.+)$/m.exec(stdout);
      if (match) {
        const address = match[1] as string;
        const port = address.slice(address.lastIndexOf(':') + 1);
        resolve({ child, address, url: `http://127.0.0.1:${port}`, output: () => ({ stdout, stderr }), exited });
      }
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}) before listening:\n${stdout}\n${stderr}`)));
  });
}
