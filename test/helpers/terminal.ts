import { spawn } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface Ran {
  code: number | null;
  output: string;
}

/**
 * Runs a line as a person pastes it into a terminal: in bash, on a real
 * pseudo-terminal (util-linux's `script`), with `HOME` in a temp folder and
 * the answers typed in order. Its PATH holds `~/.local/bin`, unless `path`
 * is given.
 */
export function runInTerminal(line: string, home: string, answers: string[] = [], path = `${join(home, '.local', 'bin')}:${process.env.PATH ?? ''}`): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', line, '/dev/null'], {
      env: { SHELL: '/bin/bash', PATH: path, HOME: home, TERM: 'dumb', RESTIC_CACHE_DIR: join(home, '.cache', 'restic') },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    // Typed ahead, and the keyboard stays there until the end (an ended input would reach the terminal as ^D).
    child.on('close', (code) => {
      child.stdin.end();
      resolve({ code, output });
    });
    child.stdin.write(answers.map((answer) => `${answer}\n`).join(''));
  });
}

/** A folder with every program of this PATH but the schedulers': a computer with no systemd, no cron, no launchd. */
export function pathWithoutSchedulers(): string {
  return pathWithout(['systemctl', 'crontab', 'launchctl']);
}

/** A folder with every program of this PATH but `missing`. */
export function pathWithout(missing: string[]): string {
  const bin = tempDir('rts-bin-');
  const linked = new Set(missing);
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      if (linked.has(name)) continue;
      linked.add(name);
      symlinkSync(join(folder, name), join(bin, name));
    }
  }
  return bin;
}
