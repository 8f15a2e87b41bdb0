import { copyFileSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { setUpHeadless } from '../helpers/headless.js';
import { RESTIC_PASSWORD, resticOk } from '../helpers/restic.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runInTerminal } from '../helpers/terminal.js';
import { hasTool } from '../helpers/tools.js';

describe.runIf(hasChromium() && hasTool('restic') && hasTool('curl') && hasTool('script'))('setting up a new computer with an old one’s files, from its page', () => {
  it('without a kept password the page says what it needs; with it, the line for the system and folder chosen, copied, its expiry, then used: the new computer has the files', { timeout: 240_000 }, async () => {
    const { controller, bridge, bugs, computers: [anna] } = await setUpHeadless({ computers: ["Anna's laptop"] });

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    // The page's clock runs as the real one until the test moves it on.
    await page.clock.install();
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /^Anna's laptop/ }).click();
    const part = page.getByRole('region', { name: 'Set up a new computer with these files' });
    await part.getByText("This needs Anna's laptop’s encryption password kept on this desktop").waitFor();
    expect(await part.getByRole('button').count()).toBe(0);
    await part.scrollIntoViewIfNeeded();
    await screenshot(page, '69-new-laptop-not-kept');

    // The old laptop, connected by its line, keeps its password on the desktop (Enter at the question).
    const old = tempDir('rts-home-');
    mkdirSync(join(old, 'Documents'));
    writeFileSync(join(old, 'Documents', 'letter.txt'), 'Dear grandma,\n');
    const connected = await runInTerminal((await controller.connectComputer({ username: anna.username, os: 'linux' })).line, old, ['a long family secret', 'a long family secret', '']);
    expect(connected.code, connected.output).toBe(0);
    // The page, open meanwhile, follows: the computer's own commands now, and its first backup in the list.
    const restore = page.getByRole('region', { name: 'Restore' });
    await restore.getByTestId('installed-commands').waitFor();
    await restore.getByRole('button', { name: /^Open the backup of/ }).waitFor();

    await part.getByRole('tab', { name: 'Linux' }).waitFor();
    expect(await part.getByRole('tab', { name: 'Linux' }).getAttribute('aria-selected')).toBe('true');
    await part.getByLabel('Into a folder (optional)').fill('Old laptop');
    await part.getByRole('button', { name: 'Make the line for the new computer' }).click();
    const block = part.locator('.code-block', { hasText: 'Run this on the new computer' });
    const line = (await block.locator('code').textContent()) ?? '';
    expect(line).toMatch(/^\( printf '%s\\n' 'url = "https:\/\/[^"]+\/\.connect\/[a-z2-9]{20}\/sh"' \| curl /);
    expect(await block.locator('.code-head').innerText()).toMatch(/Run this on the new computer; it works once, until \d\d:\d\d/);
    await block.getByRole('button', { name: 'Copy the new-computer line' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(line);
    const said = await part.innerText();
    expect(said).toMatch(/It restores the backup of .+ \(from \S+\) into Old laptop\. The new computer needs restic 0\.14 or newer/);
    await screenshot(page, '69-new-laptop-line');

    // On the new computer: the line, with nothing to answer.
    const home = tempDir('rts-home-');
    const ran = await runInTerminal(line, home);
    expect(ran.code, ran.output).toBe(0);
    expect(readFileSync(join(home, 'Old laptop', 'Documents', 'letter.txt'), 'utf8')).toBe('Dear grandma,\n');
    await part.getByText('The line was used: the new computer fetched its set-up').waitFor();
    expect(await block.count()).toBe(0);
    await screenshot(page, '70-new-laptop-used');

    // A line not used in 15 minutes says it expired.
    await part.getByRole('tab', { name: 'Windows' }).click();
    await part.getByRole('button', { name: 'Make the line for the new computer' }).click();
    expect(await part.locator('.code-block code').textContent()).toMatch(/^& \{ \$ErrorActionPreference = 'Stop'; .*\/\.connect\/[a-z2-9]{20}\/ps1'/);
    await page.clock.fastForward('16:00');
    await part.getByText(/The line expired at \d\d?:\d\d( [AP]M)? unused: make a new one\./).waitFor();
    await screenshot(page, '71-new-laptop-expired');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});

describe.runIf(hasChromium() && hasTool('restic'))('the new-computer line refused on the page', () => {
  it('with no backups yet, then with restic missing on the desktop: the page says why in words and shows no line', { timeout: 90_000 }, async () => {
    const { controller, bridge, bugs, data, computers: [anna] } = await setUpHeadless({ computers: ["Anna's laptop"] });
    await resticOk(join(data, anna.username), ['init']);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });

    // A refusal is an answer the page shows on purpose: no console errors asked for.
    const page = await openPage();
    const pageErrors = pageErrorsOf(page, { consoleErrors: false });
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /^Anna's laptop/ }).click();
    const part = page.getByRole('region', { name: 'Set up a new computer with these files' });
    const make = part.getByRole('button', { name: 'Make the line for the new computer' });
    await make.click();
    await part
      .getByRole('alert')
      .getByText("Anna's laptop has no backups yet, so there is nothing to bring back onto a new computer: connect the new computer as a computer of its own (Computers, Add a computer).", { exact: true })
      .waitFor();
    expect(await part.locator('.code-block').count()).toBe(0);
    await part.scrollIntoViewIfNeeded();
    await screenshot(page, '72-new-laptop-no-backups');

    // A backup now, but restic (at a path of its own) gone from the desktop.
    const home = tempDir('rts-home-');
    writeFileSync(join(home, 'letter.txt'), 'Dear grandma,\n');
    await resticOk(join(data, anna.username), ['backup', home]);
    const own = join(tempDir('rts-restic-bin-'), 'restic');
    copyFileSync('/usr/bin/restic', own);
    await controller.setResticPath({ path: own });
    unlinkSync(own);
    await make.click();
    await part
      .getByRole('alert')
      .getByText(`There is no restic program at ${own}. Install restic with your package manager (on Debian or Ubuntu: sudo apt install restic), or give the path of the restic program in Settings.`, { exact: true })
      .waitFor();
    expect(await part.locator('.code-block').count()).toBe(0);
    await screenshot(page, '73-new-laptop-no-restic');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
