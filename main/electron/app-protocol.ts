import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { protocol } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../csp.js';

/** The GUI is served from `app://gui/...`: a custom scheme, so the page is not a file:// page with file access. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://gui`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The file an `app://gui/...` address names, or undefined when it leaves the GUI folder (or is not ours). */
export function resolveAppFile(root: string, address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== 'gui') return undefined;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
  const inside = relative(resolve(root), file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).some((part) => part.startsWith('.'))) return undefined;
  return file;
}

/** Must run before the app is ready: the scheme is secure and standard, like https (module scripts need CORS on it). */
export function declareAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
}

/** Serves the built renderer with the strict CSP; anything else is 404. */
export function serveApp(root: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(root, request.url);
    const body = file ? await readFile(file).catch(() => undefined) : undefined;
    if (!file || !body) return new Response('Not found', { status: 404 });
    return new Response(body, {
      headers: {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
}
