import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { setUpHeadless } from '../helpers/headless.js';
import { S3Server } from '../helpers/s3.js';
import { SshServer } from '../helpers/sshd.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';
import { writeRepository } from '../helpers/repository.js';

/** A fresh page on the Storage screen, with the card of this title and the page's errors (console errors too unless refused answers are expected). */
async function storageCard(url: string, title: string, options = { consoleErrors: true }) {
  const page = await openPage();
  const pageErrors = pageErrorsOf(page, options);
  await page.goto(url);
  await page.getByRole('link', { name: 'Storage' }).click();
  return { page, pageErrors, card: page.locator('section.card', { has: page.getByRole('heading', { name: title }) }) };
}

describe.runIf(hasChromium())('integrity checks and the offsite copy in the GUI', () => {
  it('Check now finds a damaged file; the dashboard, the computer list and its page say so with the repair steps; “Repaired” clears it', { timeout: 90_000 }, async () => {
    const { bridge, controller, bugs, data } = await setUpHeadless({ tls: false });
    const anna = await controller.addComputer({ displayName: "Anna's laptop" });
    // Anna's repository on the disk: three sound packs and one whose contents no longer match its name.
    const [damaged] = writeRepository(data, anna.username, 4, 50_000) as [{ id: string; data: Buffer; path: string }];
    writeFileSync(damaged.path, Buffer.concat([damaged.data.subarray(0, 1000), Buffer.alloc(49_000)]));

    const { page, pageErrors, card } = await storageCard(bridge.url, 'Integrity');
    await card.getByText(/has not been checked yet/).waitFor();
    await card.getByRole('button', { name: 'Check now' }).click();
    await card.getByText("Anna's laptop: repair needed").waitFor({ timeout: 30_000 });
    await card.getByText(/Last full check of .* 4 files .*1 damaged file/).waitFor();
    expect(await card.locator('.findings li').first().textContent()).toContain(`data/${damaged.id.slice(0, 2)}/${damaged.id}`);
    await screenshot(page, '30-storage-integrity-damage');

    // The dashboard turns yellow with the sentence; the computer is marked on the list.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByText(/Damaged files were found in Anna's laptop’s backups and moved aside/).first().waitFor();
    await page.getByRole('link', { name: 'Computers' }).click();
    await page.getByRole('button', { name: /Anna's laptop.*repair needed/ }).click();

    // Anna's login is append-only: the page asks for the maintenance login, then shows its repair steps.
    await page.getByText(/create the maintenance login in Security/).waitFor();
    await controller.createMaintenanceLogin();
    await page.getByText(/these steps use the maintenance login/).waitFor();
    const steps = page.locator('.repair .code-block pre');
    await expect
      .poll(() => steps.allTextContents())
      .toEqual([expect.stringMatching(/maintenance login\)\n.*RESTIC_REPOSITORY=.*\/annas-laptop\//s), 'restic rebuild-index', expect.stringMatching(/^restic backup /), 'restic check --read-data']);
    await screenshot(page, '31-computer-repair-steps');

    await page.getByRole('button', { name: /Repaired/ }).click();
    await page.locator('.repair').waitFor({ state: 'detached' });
    expect((await controller.getState()).integrity.awaitingRepair).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it.runIf(hasTool('rclone'))('the offsite copy: a target refused with the reason, then one tested and used; the copy shows when it was made', { timeout: 90_000 }, async () => {
    const { bridge, controller, bugs, data } = await setUpHeadless({ tls: false });
    mkdirSync(join(data, 'anna', 'keys'), { recursive: true });
    writeFileSync(join(data, 'anna', 'config'), 'a repository');

    // The refused target is an answer the page shows on purpose.
    const { page, pageErrors, card } = await storageCard(bridge.url, 'Offsite copy', { consoleErrors: false });
    await card.getByRole('radio', { name: 'A folder, or a remote of rclone' }).click();
    await card.getByLabel('Where the copy goes', { exact: true }).fill('nowhere:backups');
    await card.getByRole('button', { name: 'Test and use' }).click();
    await card.getByRole('alert').getByText(/The copy cannot go there: rclone could not write a test file there\. rclone’s configuration has no remote called “nowhere”/).waitFor();
    await screenshot(page, '32-offsite-refused');

    const copy = tempDir('rts-copy-');
    await card.getByLabel('Where the copy goes', { exact: true }).fill(copy);
    await card.getByLabel(/Speed limit/).fill('20M');
    await card.getByRole('button', { name: 'Test and use' }).click();
    await card.getByText(copy).waitFor();
    await card.getByRole('button', { name: 'Copy now' }).click();
    await expect.poll(async () => (await controller.getState()).offsite.lastCopyAt, { timeout: 30_000 }).not.toBeNull();
    await card.getByText(/Last complete copy/).waitFor();
    await expect.poll(() => card.locator('dd').nth(1).textContent()).toMatch(/just now|seconds? ago/);
    expect(existsSync(join(copy, 'anna', 'config'))).toBe(true);
    await screenshot(page, '33-offsite-copied');

    // Rebuilding asks first; on this disk it finds everything there already, then checks it.
    await card.getByRole('button', { name: 'Rebuild the backup disk from the copy…' }).click();
    await card.getByRole('alertdialog', { name: 'Fill the backup disk in use from the offsite copy?' }).getByRole('button', { name: 'Yes, rebuild' }).click();
    await expect
      .poll(async () => (await controller.recentSummaries()).map((summary) => summary.message).join('\n'), { timeout: 30_000 })
      .toMatch(/was rebuilt from the offsite copy: .*; an integrity check follows\./);
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it.runIf(hasTool('rclone') && hasTool('sshd'))('the SFTP form: the server’s key is shown as ssh-keygen prints it and nothing is kept until it is trusted; a key changed since is refused in words; then the copy lands there', { timeout: 90_000 }, async () => {
    const { bridge, bugs, data, controller, configDir } = await setUpHeadless({ tls: false });
    mkdirSync(join(data, 'anna', 'keys'), { recursive: true });
    writeFileSync(join(data, 'anna', 'config'), 'a repository');
    const ssh = await SshServer.start();
    const keygen = () => (/ (SHA256:\S+) /.exec(execFileSync('ssh-keygen', ['-lf', ssh.hostKeys[0] as string], { encoding: 'utf8' }))?.[1] as string);

    // A refused key is an answer the page shows on purpose.
    const { page, pageErrors, card } = await storageCard(bridge.url, 'Offsite copy', { consoleErrors: false });
    await card.getByLabel('Computer (host name or address)').fill('127.0.0.1');
    await card.getByLabel('Port').fill(String(ssh.port));
    await card.getByLabel('User there').fill('root');
    await card.getByRole('radio', { name: 'Key file' }).click();
    await card.getByLabel(/Private key file/).fill(ssh.clientKey);
    await card.getByLabel('Folder there').fill(ssh.folder);
    await screenshot(page, '34-offsite-sftp-form');
    await card.getByRole('button', { name: 'Test and use' }).click();
    const question = card.getByRole('alertdialog', { name: 'Trust this key?' });
    await question.waitFor({ timeout: 30_000 });
    expect(await question.textContent()).toContain(`The SFTP server at 127.0.0.1:${ssh.port} identifies itself with key ${keygen()} (ED25519).`);
    await screenshot(page, '34b-offsite-sftp-host-key');
    // Nothing is kept while the question waits, nor when it is answered no.
    const nothingKept = async () => {
      expect((await controller.getState()).offsite.target).toBeNull();
      expect(existsSync(join(configDir, 'rclone.conf'))).toBe(false);
    };
    await nothingKept();
    await question.getByRole('button', { name: 'No, do not use it' }).click();
    await question.waitFor({ state: 'detached' });
    await nothingKept();

    // The server's key changes between the look and the yes: refused, in words.
    await card.getByRole('button', { name: 'Test and use' }).click();
    await question.waitFor({ timeout: 30_000 });
    const looked = keygen();
    await ssh.changeHostKeys();
    await question.getByRole('button', { name: 'Yes, trust this key' }).click();
    await card.getByRole('alert').filter({ hasText: `now identifies itself with another key (${keygen()}, ED25519) than the one you confirmed (${looked}). Nothing was saved.` }).waitFor({ timeout: 30_000 });
    await screenshot(page, '34c-offsite-sftp-key-changed');
    await nothingKept();

    // Looked at again and trusted: kept, and used.
    await card.getByRole('button', { name: 'Test and use' }).click();
    await question.getByText(keygen()).waitFor({ timeout: 30_000 });
    await question.getByRole('button', { name: 'Yes, trust this key' }).click();
    await card.getByText(`root@127.0.0.1:${ssh.port}${ssh.folder}`).waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Copy now' }).click();
    await expect.poll(() => existsSync(join(ssh.folder, 'anna', 'config')), { timeout: 30_000 }).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it.runIf(hasTool('rclone') && hasTool('openssl'))('the S3 form (s3rver, a local stand-in): a key the storage refuses is said in words; the right one is used, and the copy lands in the bucket', { timeout: 90_000 }, async () => {
    const { bridge, bugs, data } = await setUpHeadless({ tls: false });
    mkdirSync(join(data, 'anna', 'keys'), { recursive: true });
    writeFileSync(join(data, 'anna', 'config'), 'a repository');
    const s3 = await S3Server.start();

    // The refused key is an answer the page shows on purpose.
    const { page, pageErrors, card } = await storageCard(bridge.url, 'Offsite copy', { consoleErrors: false });
    await card.getByRole('radio', { name: 'Cloud storage (S3)' }).click();
    await card.getByLabel('Service').selectOption({ label: 'Another S3-compatible service (MinIO and others)' });
    await card.getByLabel('The service’s address').fill(s3.endpoint);
    await card.getByLabel('Bucket', { exact: true }).fill(s3.bucket);
    await card.getByLabel('Key ID').fill('NOT-A-KEY-ID');
    await card.getByLabel('Secret key').fill(S3Server.secretAccessKey);
    await screenshot(page, '35-offsite-s3-form');
    await card.getByRole('button', { name: 'Test and use' }).click();
    await card.getByText(`The cloud storage at ${new URL(s3.endpoint).host} refused the keys`, { exact: false }).waitFor({ timeout: 30_000 });
    await card.getByLabel('Key ID').fill(S3Server.accessKeyId);
    await card.getByRole('button', { name: 'Test and use' }).click();
    await card.getByText(`${new URL(s3.endpoint).host}/${s3.bucket}/restic-copy`).waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Copy now' }).click();
    await expect.poll(() => existsSync(join(s3.directory, s3.bucket, 'restic-copy', 'anna', 'config._S3rver_object')), { timeout: 30_000 }).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
