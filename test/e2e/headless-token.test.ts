import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startBridge, type Bridge } from '../../main/headless/bridge.js';
import { hasChromium, openPage } from '../helpers/browser.js';
import { freePort, openController } from '../helpers/controller.js';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * Another program on 127.0.0.1 (another port, so the same site for cookies):
 * its page tries to use the GUI's API and reports what it got.
 */
async function otherLocalPage(bridge: Bridge) {
  const seen: IncomingHttpHeaders[] = [];
  const reports: unknown[] = [];
  const page = `<!doctype html><title>Another program</title><script>
    const api = ${JSON.stringify(bridge.origin)} + '/api/';
    const tryCall = (method, init) => fetch(api + method, init).then((r) => r.status + ' ' + r.type, (e) => 'failed: ' + e.message);
    Promise.all([
      tryCall('resetPassword', { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: '{"username":"maintenance"}' }),
      tryCall('resetPassword', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{"username":"maintenance"}' }),
      tryCall('getState', { method: 'POST', credentials: 'include' }),
    ]).then((results) => fetch('/report', { method: 'POST', body: JSON.stringify({ results, cookie: document.cookie }) }));
  </script>`;
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.method === 'POST' && req.url === '/report') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        reports.push(JSON.parse(body));
        res.end();
      });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen, reports };
}

describe.runIf(hasChromium())('the headless token in a real browser', () => {
  it('travels in the fragment only, leaves the address bar, and a page on another local port gets nothing usable', { timeout: 60_000 }, async () => {
    const { controller } = await openController();
    await controller.updateSettings({ port: await freePort() });
    await controller.addComputer({ displayName: 'Anna' });
    const resets = vi.spyOn(controller, 'resetPassword');
    const bridge = await startBridge({ api: controller, port: 0, staticDir: 'dist/renderer', onBug: () => undefined });
    closers.push(() => bridge.close());

    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: '1. Where should the backups go?' }).waitFor();
    expect(page.url()).toBe(`${bridge.origin}/`);
    expect(await page.context().cookies()).toEqual([]);

    const other = await otherLocalPage(bridge);
    const evil = await page.context().newPage();
    await evil.goto(other.url);
    await expect.poll(() => other.reports.length, { timeout: 10_000 }).toBe(1);
    const report = other.reports[0] as { results: string[]; cookie: string };
    expect(report.cookie).toBe('');
    expect(report.results[0]).toMatch(/^failed|^401/);
    expect(report.results[1]).toMatch(/^failed|^0 opaque/);
    expect(report.results[2]).toMatch(/^failed|^401/);
    expect(other.seen.every((headers) => headers.cookie === undefined && headers.authorization === undefined)).toBe(true);
    expect(resets).not.toHaveBeenCalled();

    // Memory only: a reload forgets the token, and the page says what to do.
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'open the address printed when headless mode started' }).waitFor();
  });
});
