import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli-process.js';
import { code, get, makeObject, post, run } from '../helpers/http.js';
import { sleep } from '../helpers/raw-socket.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

/** Opens a TCP connection from a chosen local address and leaves it idle; resolves once connected. */
function idleConnection(port: number, localAddress: string): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve) => {
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.on('connect', () => resolve({ socket, closed: () => closed }));
    socket.on('close', () => resolve({ socket, closed: () => true }));
  });
}

describe.skipIf(!hasTool('prlimit'))('connection limits', () => {
  it('one address holding hundreds of idle connections cannot use up the descriptors others need', { timeout: 60_000 }, async () => {
    const server = await startCli(['--path', tempDir(), '--no-auth', '--listen', '127.0.0.1:0'], { maxOpenFiles: 200 });
    const port = Number(server.address.split(':')[1]);
    const hoarded = [];
    for (let i = 0; i < 260; i++) hoarded.push(await idleConnection(port, '127.0.0.5'));
    await sleep(300);
    const stillOpen = hoarded.filter((connection) => !connection.closed()).length;
    expect(stillOpen).toBeLessThanOrEqual(64);
    expect(stillOpen).toBeGreaterThan(0);

    const objects = Array.from({ length: 20 }, () => makeObject(10_000));
    await run(server.url, [
      { req: post('/family/?create=true'), want: [code(200)] },
      ...objects.map(({ id, data }) => ({ req: post(`/family/data/${id}`, data), want: [code(200)] })),
      { req: get('/family/data/'), want: [code(200)] },
    ]);
    for (const { socket } of hoarded) socket.destroy();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('takes its limits from the command line', async () => {
    const server = await startCli(['--path', tempDir(), '--no-auth', '--listen', '127.0.0.1:0', '--max-connections-per-address', '3', '--max-connections', '5']);
    const port = Number(server.address.split(':')[1]);
    const fromOne = await Promise.all(Array.from({ length: 6 }, () => idleConnection(port, '127.0.0.6')));
    const fromOthers = await Promise.all(['127.0.0.7', '127.0.0.8', '127.0.0.9'].map((address) => idleConnection(port, address)));
    await sleep(300);
    expect(fromOne.filter((connection) => !connection.closed()).length).toBeLessThanOrEqual(3);
    expect([...fromOne, ...fromOthers].filter((connection) => !connection.closed()).length).toBeLessThanOrEqual(5);
    // Idle connections make room: a request from yet another address is served.
    await run(server.url, [{ req: post('/?create=true'), want: [code(200)] }]);
    for (const { socket } of [...fromOne, ...fromOthers]) socket.destroy();
    server.child.kill('SIGTERM');
  });
});
