import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { setUpHeadless } from '../helpers/headless.js';
import { makeObject } from '../helpers/http.js';
import { writeRepository } from '../helpers/repository.js';
import { SshServer } from '../helpers/sshd.js';
import { hasTool } from '../helpers/tools.js';

describe.runIf(hasChromium() && hasTool('rclone') && hasTool('sshd') && hasTool('chattr'))('the offsite copy in words', () => {
  it('an SFTP target shows as user@host:port/path; a failed copy says what went wrong there in words, rclone’s text under Details: the server off, a folder it may not write in, a changed host key', { timeout: 180_000 }, async () => {
    const { controller, bridge, data } = await setUpHeadless({ tls: false });
    writeRepository(data, 'family', 2, 20_000);
    const ssh = await SshServer.start();
    const key = await controller.sftpHostKey({ host: '127.0.0.1', port: ssh.port });
    const set = await controller.setOffsiteSftp({ host: '127.0.0.1', port: ssh.port, hostKeyFingerprint: key.fingerprint, user: 'root', keyFile: ssh.clientKey, folder: ssh.folder });
    const where = `root@127.0.0.1:${ssh.port}${ssh.folder}`;
    expect(set.offsite.target).toMatchObject({ remote: `offsite-sftp:${ssh.folder}`, where });

    /** The live log's lines about copies (an integrity check may write its own between them). */
    const summaries = async () => (await controller.recentSummaries()).map((summary) => summary.message).filter((message) => message.startsWith('Offsite copy to '));
    /** A copy asked for, and the state once it ended (each copy ends with its line in the live log). */
    const copy = async () => {
      const ended = async () => (await summaries()).length;
      const before = await ended();
      await controller.copyOffsiteNow();
      await expect.poll(ended, { timeout: 60_000 }).toBe(before + 1);
      return waitForState(controller, (state) => state.offsite.running === null);
    };
    expect((await copy()).offsite.problem).toBeNull();
    expect((await summaries()).at(-1)).toMatch(new RegExp(`^Offsite copy to ${where} finished: .+ sent\\.$`));

    // The relative's computer is off.
    ssh.stop();
    const off = await copy();
    const refused = `The SFTP server at 127.0.0.1:${ssh.port} refused the connection: check that it is switched on and that its address and port are right. It is tried again later.`;
    expect(off.offsite).toMatchObject({ problem: refused, problemDetails: expect.stringMatching(/couldn't connect SSH: dial tcp 127\.0\.0\.1:\d+: connect: connection refused/) });
    expect(off.sentence).toBe(`The offsite copy did not work: ${refused}`);
    expect((await summaries()).at(-1)).toBe(`Offsite copy to ${where} failed: ${refused}`);

    const page = await openPage();
    const errors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByTestId('offsite-line').getByText(`Offsite copy to ${where}: the last complete copy was just now; the last try did not work (see Storage).`).waitFor();
    await page.getByRole('link', { name: 'Storage' }).click();
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'Offsite copy' }) });
    await card.getByText(where, { exact: true }).waitFor();
    const problem = card.getByTestId('offsite-problem');
    await problem.getByText(refused, { exact: true }).waitFor();
    // rclone's own text waits, folded, under Details.
    const details = problem.locator('details');
    expect(await details.locator('pre').isVisible()).toBe(false);
    expect(await card.innerText()).not.toContain('offsite-sftp');
    await screenshot(page, '54-offsite-refused-in-words');
    await details.getByText('Details', { exact: true }).click();
    expect(await details.locator('pre').textContent()).toMatch(/connection refused/);
    await screenshot(page, '55-offsite-refused-details');
    await page.getByRole('link', { name: 'Live log' }).click();
    await page.getByText(`Offsite copy to ${where} failed: ${refused}`).waitFor();

    // Back on, with the folder there made read-only: new files cannot be written in it.
    await ssh.resume();
    const pack = makeObject(20_000);
    mkdirSync(join(data, 'family', 'data', pack.id.slice(0, 2)), { recursive: true });
    writeFileSync(join(data, 'family', 'data', pack.id.slice(0, 2), pack.id), pack.data);
    execFileSync('chattr', ['-R', '+i', ssh.folder]);
    try {
      const denied = await copy();
      expect(denied.offsite).toMatchObject({
        problem: `The SFTP server at 127.0.0.1:${ssh.port} may not be written in: check the folder’s name, or ask its owner to let the user write there.`,
        problemDetails: expect.stringMatching(/permission denied/),
      });
    } finally {
      execFileSync('chattr', ['-R', '-i', ssh.folder]);
    }

    // The computer there was reinstalled (or something stands in between): its key is not the one confirmed.
    await ssh.changeHostKeys();
    const changed = await copy();
    expect(changed.offsite).toMatchObject({
      problem: expect.stringMatching(new RegExp(`^The SFTP server at 127\\.0\\.0\\.1:${ssh.port} now identifies itself with another key than the one you confirmed\\.`)),
      problemDetails: expect.stringMatching(/knownhosts: key mismatch/),
    });
    expect(errors).toEqual([]);
  });
});
