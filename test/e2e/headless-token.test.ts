import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startBridge, type Bridge } from '../../main/headless/bridge.js';
import { join } from 'node:path';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { freePort, openController } from '../helpers/controller.js';
import { callGui, headless, startHeadlessCli } from '../helpers/headless.js';
import { tempDir } from '../helpers/temp-dir.js';

const tokenOf = (address: string): string => /#token=([\w-]+)/.exec(address)?.[1] as string;

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
    await page.getByRole('alert').filter({ hasText: 'open the GUI address again, as printed when headless mode started' }).waitFor();
  });

  it('Settings’ “Make a new GUI address” (headless mode only): the old address stops working at once, this page goes on with the new one, which the file holds', { timeout: 60_000 }, async () => {
    // The desktop app's controller has no GUI address: no such button.
    const desktopLike = await headless();
    await desktopLike.controller.updateSettings({ setupComplete: true });
    const plain = await openPage();
    await plain.goto(desktopLike.bridge.url);
    await plain.getByRole('link', { name: 'Settings' }).click();
    await plain.getByRole('heading', { name: 'Set-up' }).waitFor();
    expect(await plain.getByRole('button', { name: 'Make a new GUI address' }).count()).toBe(0);

    const configDir = tempDir('rts-config-');
    const gui = await startHeadlessCli(configDir);
    const address = () => readFileSync(join(configDir, 'gui-address.txt'), 'utf8').trim();
    const old = address();
    expect(await callGui(gui.origin, tokenOf(old), 'updateSettings', { setupComplete: true })).toBe(200);
    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(old);
    await page.getByRole('link', { name: 'Settings' }).click();
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'GUI address' }) });
    await card.getByText(join(configDir, 'gui-address.txt')).waitFor();
    await card.getByRole('button', { name: 'Make a new GUI address' }).click();
    const done = card.getByRole('status').filter({ hasText: 'The old address no longer works.' });
    await done.waitFor();
    const renewed = address();
    expect(renewed).not.toBe(old);
    expect(await done.textContent()).toContain(renewed);
    expect(await callGui(gui.origin, tokenOf(old))).toBe(401);
    expect(await callGui(gui.origin, tokenOf(renewed))).toBe(200);
    await screenshot(page, '14-settings-new-gui-address');

    // This page goes on with the new key: a change made here is saved, and its state comes back over the event stream.
    await page.getByLabel('Warn when a computer has not backed up for (days)').fill('9');
    await page.locator('form', { has: page.getByLabel('Warn when a computer has not backed up for (days)') }).getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await callGui(gui.origin, tokenOf(renewed), 'updateSettings', { staleDays: 11 })).toBe(200);
    // The Settings screen takes the state's value when it opens: it is opened again until the stream (back with the new key) brought the change.
    await expect
      .poll(
        async () => {
          await page.getByRole('link', { name: 'Dashboard' }).click();
          await page.getByRole('link', { name: 'Settings' }).click();
          return page.getByLabel('Warn when a computer has not backed up for (days)').inputValue();
        },
        { timeout: 10_000 },
      )
      .toBe('11');

    // A page opened with the old address is refused, and says where the address is.
    const stale = await openPage();
    await stale.goto(old);
    await stale.getByRole('alert').filter({ hasText: 'kept in the file gui-address.txt' }).waitFor();
    expect(pageErrors).toEqual([]);
    await gui.stop();
  });
});
