import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { hasChromium, openPage, screenshot } from '../helpers/browser.js';
import { freePort } from '../helpers/controller.js';
import { headless, setUpHeadless } from '../helpers/headless.js';
import { get, head, send } from '../helpers/http.js';
import { tempDir } from '../helpers/temp-dir.js';
import { FakeUsbDisk } from '../helpers/tmpfs.js';
import { canMount } from '../helpers/tools.js';

const blockers: Server[] = [];
afterAll(() => {
  for (const blocker of blockers.splice(0)) blocker.close();
});

/** Another program holding a port on every address, as a rest-server already running on this computer would. */
async function occupy(port: number): Promise<void> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(port, resolve);
  });
}

const basic = (username: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` });

describe.runIf(hasChromium())('the first run, as a new household user meets it', () => {
  it('the disk step lists the drives first; the home folder is not one click; the system disk asks first and says why', { timeout: 60_000 }, async () => {
    const { bridge, controller } = await headless();
    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: '1. Where should the backups go?' }).waitFor();
    await page.getByRole('button', { name: /System disk/ }).waitFor();
    expect(await page.getByRole('list', { name: 'Folders' }).count()).toBe(0);
    const use = page.getByRole('button', { name: 'Use this folder' });
    expect(await use.isDisabled()).toBe(true);
    expect(await page.locator('#picker-why').textContent()).toMatch(/^Choose a drive above/);

    // The system disk, opened from the drive list, says what it is.
    await page.getByRole('button', { name: /System disk/ }).click();
    await page.getByRole('list', { name: 'Folders' }).waitFor();
    await page.getByRole('note').getByText(/This is the disk this computer runs from/).waitFor();

    // The home folder itself cannot be chosen with one click.
    await page.getByLabel('Folder', { exact: true }).fill(homedir());
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(() => page.locator('.picker-choose code').textContent()).toBe(homedir());
    expect(await use.isDisabled()).toBe(true);
    expect(await page.locator('#picker-why').textContent()).toMatch(/^Your home folder holds everything else too/);
    await screenshot(page, '20-setup-disk-home');

    // A folder on the system disk: asked first, with the reason; "Choose another disk" keeps everything as it was.
    const folder = tempDir('rts-on-system-disk-');
    await page.getByLabel('Folder', { exact: true }).fill(folder);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(() => page.locator('.picker-choose code').textContent()).toBe(folder);
    await use.click();
    const question = page.getByRole('alertdialog', { name: 'Keep the backups on the disk this computer runs from?' });
    await question.getByText(/An external USB disk used only for backups survives all of that/).waitFor();
    await screenshot(page, '21-setup-disk-system-confirm');
    await question.getByRole('button', { name: 'Choose another disk' }).click();
    expect(await question.count()).toBe(0);
    expect((await controller.getState()).storage).toBeNull();
    await use.click();
    await question.getByRole('button', { name: 'Use this disk anyway' }).click();
    await page.getByRole('heading', { name: '2. Which computers will back up here?' }).waitFor();
    expect((await controller.getState()).storage?.folder).toBe(folder);
  });

  it.runIf(canMount())('a folder on a disk of its own is used at once, without the system-disk question', { timeout: 60_000 }, async () => {
    const disk = new FakeUsbDisk(16);
    const { bridge, controller } = await headless();
    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByLabel('Folder', { exact: true }).fill(disk.mountPoint);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect.poll(() => page.locator('.picker-choose code').textContent()).toBe(disk.mountPoint);
    await page.getByRole('button', { name: 'Use this folder' }).click();
    await page.getByRole('heading', { name: '2. Which computers will back up here?' }).waitFor();
    expect((await controller.getState()).storage?.folder).toBe(disk.mountPoint);
  });

  it('names are checked; set-up is complete only once the server serves, and the port can be changed right there; autostart is really turned on', { timeout: 60_000 }, async () => {
    const { bridge, controller } = await headless({ desktop: true });
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: '2. Which computers will back up here?' }).waitFor();

    // An empty name: the button is disabled, and the page says why.
    const add = page.getByRole('button', { name: 'Add computer' });
    expect(await add.isDisabled()).toBe(true);
    expect(await page.locator('#setup-name-why').textContent()).toBe('Type the computer’s name to add it.');
    await page.getByLabel('Computer name').fill("Anna's laptop");
    expect(await page.locator('#setup-name-why').count()).toBe(0);
    await add.click();
    await page.getByText('(annas-laptop)').waitFor();
    // The same name again, other case and spacing: refused in words, nothing made.
    await page.getByLabel('Computer name').fill("  anna's   LAPTOP ");
    await add.click();
    await page.getByRole('alert').getByText(/already/).waitFor();
    expect((await controller.getState()).computers.map((computer) => computer.displayName)).toEqual(["Anna's laptop"]);
    await screenshot(page, '22-setup-name-taken');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();

    // Step 4: the name refused on step 2 is not shown here any more.
    await page.getByRole('heading', { name: '4. Start serving' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    // The port another program holds.
    const taken = (await controller.getState()).settings.port;
    await occupy(taken);
    const autostart = page.getByRole('switch', { name: 'Start with this computer' });
    expect(await autostart.isChecked()).toBe(true);
    expect(await page.getByLabel('Port').inputValue()).toBe(String(taken));
    await page.getByRole('button', { name: 'Start the server' }).click();
    const problem = page.getByRole('alert').filter({ hasText: `Port ${taken} is already used by another program` });
    await problem.getByText('Set-up is not finished until the server runs: do what this says (the port can be changed above), then start again.').waitFor();
    await screenshot(page, '23-setup-port-taken');
    expect(await page.getByRole('heading', { name: '4. Start serving' }).count()).toBe(1);
    expect((await controller.getState()).setupComplete).toBe(false);

    // A typing mistake in the port is said, not sent.
    await page.getByLabel('Port').fill('80o1');
    await page.getByRole('button', { name: 'Start again' }).click();
    await page.getByRole('alert').getByText('The port is a whole number from 1 to 65535, such as 8000.').waitFor();

    const free = await freePort();
    await page.getByLabel('Port').fill(String(free));
    await page.getByRole('button', { name: 'Start again' }).click();
    await page.getByRole('heading', { name: 'Connect', exact: true }).waitFor();
    const state = await controller.getState();
    expect(state).toMatchObject({ setupComplete: true, status: 'serving', settings: { port: free, autostart: true } });
    expect(state.clientUrl).toContain(`:${free}/`);
  });

  it('everyday screens: a dashboard row opens its computer; reset and removal ask first and say what happened; the live log opens on its summary and restic’s probes are not errors', { timeout: 60_000 }, async () => {
    const { bridge, controller, computers: [anna] } = await setUpHeadless({ tls: false, computers: ["Anna's laptop"] });
    const base = (await controller.getState()).clientUrl as string;
    const auth = basic(anna.username, anna.password);
    // restic init asks whether the repository exists (404 on HEAD config), then creates it.
    expect((await send(base, head('/annas-laptop/config', auth))).status).toBe(404);
    expect((await send(base, { method: 'POST', path: '/annas-laptop/?create=true', headers: auth })).status).toBe(200);
    // A missing object where one was expected, and a wrong password: real errors.
    expect((await send(base, get(`/annas-laptop/data/${'ab'.repeat(32)}`, auth))).status).toBe(404);
    expect((await send(base, get('/annas-laptop/config', basic(anna.username, 'wrong')))).status).toBe(401);

    const page = await openPage();
    await page.goto(bridge.url);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByTestId('computer-annas-laptop').getByRole('link', { name: "Anna's laptop" }).click();
    await page.getByRole('heading', { name: "Anna's laptop", level: 2 }).waitFor();
    expect(await page.getByTestId('computer-status').textContent()).toContain('Snapshots0');
    // Long commands wrap inside their box rather than run off the card.
    const overflowing = await page.locator('.code-block pre').evaluateAll((blocks) => blocks.filter((block) => block.scrollWidth > block.clientWidth + 1).length);
    expect(overflowing).toBe(0);
    await screenshot(page, '24-computer-commands-wrapped');

    // Reset: asked first; keeping the password changes nothing.
    await page.getByRole('button', { name: 'Reset password…' }).click();
    const reset = page.getByRole('alertdialog', { name: "Give Anna's laptop a new password?" });
    await reset.getByText(/cannot back up until its new set-up line is pasted there/).waitFor();
    await screenshot(page, '25-computer-reset-confirm');
    await reset.getByRole('button', { name: 'Keep the password' }).click();
    expect((await send(base, get('/annas-laptop/keys/', auth))).status).toBe(200);
    await page.getByRole('button', { name: 'Reset password…' }).click();
    await reset.getByRole('button', { name: 'Yes, new password' }).click();
    await page.getByTestId('reset-done').waitFor();
    await page.getByText(/Set Anna's laptop up by hand/).click();
    await page.getByRole('heading', { name: 'Server login for annas-laptop' }).waitFor();
    await expect.poll(async () => (await send(base, get('/annas-laptop/keys/', auth))).status).toBe(401);

    // Removal: asked first, then confirmed in words.
    await page.getByRole('button', { name: 'Remove…' }).click();
    await page.getByRole('alertdialog', { name: "Remove Anna's laptop?" }).getByRole('button', { name: 'Yes, remove' }).click();
    await page.getByRole('status').getByText("Anna's laptop was removed. Its backups stay on the disk in /annas-laptop/.").waitFor();
    await expect.poll(() => page.getByRole('button', { name: /Anna's laptop/ }).count()).toBe(0);
    await screenshot(page, '26-computer-removed');

    // The live log opens on its summary; among the requests, the probe is not an error.
    await page.getByRole('link', { name: 'Live log' }).click();
    expect(await page.getByRole('tab', { name: 'Summary' }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('tab', { name: 'Requests' }).click();
    const probe = page.locator('.log-table tbody tr', { hasText: '404 (not there yet)' });
    await probe.waitFor();
    expect(await probe.getAttribute('class')).not.toContain('failed');
    await page.getByLabel('Errors only').check();
    const statuses = () => page.locator('.log-table tbody tr td:nth-child(5)').allTextContents();
    await expect.poll(async () => new Set(await statuses())).toEqual(new Set(['401', '404']));
    await screenshot(page, '27-live-log-errors-only');
  });
});
