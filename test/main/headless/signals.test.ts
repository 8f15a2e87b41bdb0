import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp-dir.js';

/** Whether something still accepts connections on the port. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

/** The processes whose command line names this folder (the app started for it). */
const processesFor = (configDir: string): string[] =>
  spawnSync('pgrep', ['-f', configDir], { encoding: 'utf8' }).stdout.split('\n').filter((line) => line !== '' && Number(line) !== process.pid);

describe('stopping headless mode through npm', () => {
  it('SIGTERM sent to npm’s own process stops the app, not only npm', { timeout: 60_000 }, async () => {
    const configDir = tempDir('rts-config-');
    const npm = spawn('npm', ['run', 'headless', '--', '--config-dir', configDir, '--gui-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const look = setInterval(() => {
        const match = /^GUI: http:\/\/127\.0\.0\.1:(\d+)\//m.exec(out);
        if (match) {
          clearInterval(look);
          resolve(Number(match[1]));
        }
      }, 50);
      npm.on('exit', (code) => reject(new Error(`npm exited ${code} before the GUI line: ${out}`)));
    });
    expect(await listening(port)).toBe(true);
    process.kill(npm.pid as number, 'SIGTERM');
    await expect.poll(() => listening(port), { timeout: 15_000, interval: 200 }).toBe(false);
    await expect.poll(() => processesFor(configDir), { timeout: 15_000, interval: 200 }).toEqual([]);
  });
});
