import { afterAll } from 'vitest';
import { ResticServer, type ServerOptions } from '../../server/server.js';
import type { RequestEvent } from '../../server/events.js';
import { tempDir } from './temp-dir.js';

export interface RunningServer {
  server: ResticServer;
  url: string;
  port: number;
  dataDir: string;
  events: RequestEvent[];
  close(): Promise<void>;
}

const running: ResticServer[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/**
 * Starts the server on 127.0.0.1 with a free port, on a fresh data folder
 * unless one is given, without authentication unless asked for.
 */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const dataDir = options.path ?? tempDir('rts-data-');
  const server = await ResticServer.create({ noAuth: true, ...options, path: dataDir });
  running.push(server);
  const events: RequestEvent[] = [];
  server.on('request', (event) => events.push(event));
  await server.listen({ host: '127.0.0.1', port: 0 });
  const port = server.port as number;
  return { server, url: `http://127.0.0.1:${port}`, port, dataDir, events, close: () => server.close() };
}
