import type { ListenTarget } from './server.js';

/**
 * rest-server's `--listen` forms: `host:port`, `:port` (all interfaces),
 * `[v6addr]:port`, and `unix:/path/to/socket`.
 */
export function parseListen(value: string): ListenTarget {
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length);
    if (socketPath === '') throw new Error(`--listen ${value}: the socket path is missing (unix:/path/to/socket)`);
    return { socketPath };
  }
  const colon = value.lastIndexOf(':');
  if (colon === -1) throw new Error(`--listen ${value}: expected host:port, :port or unix:/path`);
  let host = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`--listen ${value}: the port must be a number from 0 to 65535`);
  return host === '' ? { port } : { host, port };
}
