import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { hasTool } from './tools.js';

/** Debian's Chromium, as the developers' guide says: no download, no background traffic. */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const hasChromium = (): boolean => hasTool('chromium');

const browsers: Browser[] = [];
afterAll(async () => {
  await Promise.all(browsers.splice(0).map((browser) => browser.close()));
});

/** A fresh browser page (its own profile), with clipboard access for the copy buttons. */
export async function openPage(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  browsers.push(browser);
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: options.colorScheme ?? 'light', acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  return context.newPage();
}

/**
 * The page's errors as they happen: uncaught exceptions, and console errors
 * (a Content-Security-Policy violation or a missing file shows up there)
 * unless the test makes the API refuse something on purpose, which the
 * browser logs there too.
 */
export function pageErrorsOf(page: Page, options: { consoleErrors: boolean } = { consoleErrors: true }): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (options.consoleErrors && message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

export const SCREENSHOTS = join('test-results', 'screenshots');

/** Saves a full-page screenshot under the test output, for people to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
