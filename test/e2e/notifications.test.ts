import { describe, expect, it, vi } from 'vitest';
import { hasChromium, openPage, pageErrorsOf, screenshot } from '../helpers/browser.js';
import { waitForState } from '../helpers/controller.js';
import { headless, setUpHeadless } from '../helpers/headless.js';
import { startHttpsReceiver, startSmtp } from '../helpers/receivers.js';

const TOKEN = 'tk_browser0secret';

describe.runIf(hasChromium())('Settings → Notifications in the browser', () => {
  it('adds an ntfy channel, “Send a test” says the 403 in words, a token makes it work; an e-mail from a provider preset with a refused login; quiet hours and the digest', { timeout: 120_000 }, async () => {
    const receiver = await startHttpsReceiver();
    receiver.answers.status = (request) => (request.headers.authorization === `Bearer ${TOKEN}` ? 200 : 403);
    const smtp = await startSmtp({ user: 'backups@example.net', password: 'the-right-one' });
    const { bridge, controller, bugs } = await headless();
    await controller.updateSettings({ setupComplete: true });

    // Refusals are answers the page shows on purpose: no console errors asked for.
    const page = await openPage();
    const pageErrors = pageErrorsOf(page, { consoleErrors: false });
    await page.goto(bridge.url);
    await page.getByRole('link', { name: 'Settings' }).click();
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'Notifications' }) });
    await card.getByRole('button', { name: 'Add a channel' }).click();
    await card.getByRole('radio', { name: 'Phone (ntfy)' }).click();
    await card.getByLabel('ntfy server').fill(receiver.origin);
    await card.getByLabel('Topic').fill('family-backups');
    await card.getByRole('switch', { name: /Check the server’s certificate/ }).click();
    await screenshot(page, '60-notifications-ntfy-form');
    await card.getByRole('button', { name: 'Add the channel' }).click();

    const ntfyRow = card.locator('li.channel', { hasText: 'ntfy topic “family-backups”' });
    await ntfyRow.getByRole('button', { name: 'Send a test' }).click();
    await ntfyRow.getByRole('status').getByText('Not sent: ntfy answered 403: the topic needs a token.').waitFor();
    await screenshot(page, '61-notifications-ntfy-403');

    await ntfyRow.getByRole('button', { name: 'Change' }).click();
    await card.getByLabel('Access token (optional)').fill(TOKEN);
    await card.getByRole('button', { name: 'Save the changes' }).click();
    await ntfyRow.getByRole('button', { name: 'Send a test' }).click();
    await ntfyRow.getByRole('status').getByText('Sent: ntfy took the message. It shows on the phones that follow the topic “family-backups”.').waitFor();
    expect(JSON.parse(receiver.received.at(-1)?.body ?? '')).toMatchObject({ topic: 'family-backups', title: 'Test from Restic Tray Server' });

    await card.getByRole('button', { name: 'Add a channel' }).click();
    await card.getByLabel('Provider').selectOption({ label: 'Gmail' });
    expect(await card.getByLabel('Mail server (SMTP)').inputValue()).toBe('smtp.gmail.com');
    expect(await card.getByLabel('Port', { exact: true }).inputValue()).toBe('587');
    await card.getByLabel('Mail server (SMTP)').fill('127.0.0.1');
    await card.getByLabel('Port', { exact: true }).fill(String(smtp.port));
    await card.getByLabel(/^Login/).fill('backups@example.net');
    await card.getByLabel('Password', { exact: true }).fill('a-wrong-one');
    await card.getByLabel('From', { exact: true }).fill('backups@example.net');
    await card.getByLabel('To', { exact: true }).fill('anna@example.net');
    await card.getByRole('switch', { name: /Check the server’s certificate/ }).click();
    await card.getByRole('button', { name: 'Add the channel' }).click();
    const mailRow = card.locator('li.channel', { hasText: 'E-mail to anna@example.net' });
    await mailRow.getByRole('button', { name: 'Send a test' }).click();
    await mailRow.getByRole('status').getByText(/^Not sent: the SMTP server refused the login/).waitFor();
    expect(smtp.mails).toHaveLength(0);

    await card.getByRole('switch', { name: /Quiet hours/ }).click();
    await card.getByLabel('Summary of all backups').selectOption({ label: 'Every Monday morning' });
    await card.getByLabel('From', { exact: true }).waitFor();
    await expect.poll(async () => (await controller.getState()).settings).toMatchObject({ quietHours: { from: 22, to: 7 }, digest: 'weekly' });
    await expect.poll(() => card.getByLabel('Summary of all backups').inputValue()).toBe('weekly');
    await screenshot(page, '62-notifications-channels');

    const shown = await page.content();
    expect(shown).not.toContain(TOKEN);
    expect(shown).not.toContain('a-wrong-one');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });

  it('a channel that keeps failing shows on the dashboard, in words', { timeout: 120_000 }, async () => {
    const receiver = await startHttpsReceiver();
    receiver.answers.status = () => 500;
    const clock = { at: Date.now() };
    const { bridge, controller, bugs } = await setUpHeadless({ tls: false, computers: ["Anna's laptop"], options: { now: () => clock.at, tickMs: 50 } });
    await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/hook/token-in-path` });

    clock.at += 4 * 86_400_000;
    // The clock moves on by small steps until each retry is due: a minute after the first attempt began, then two after the second.
    for (const attempts of [1, 2, 3]) {
      await vi.waitFor(
        () => {
          clock.at += 5_000;
          expect(receiver.received).toHaveLength(attempts);
        },
        { timeout: 20_000, interval: 50 },
      );
    }
    await waitForState(controller, (state) => state.reasons.some((reason) => reason.key.startsWith('channel-failing:')));

    const page = await openPage();
    const pageErrors = pageErrorsOf(page);
    await page.goto(bridge.url);
    await page.getByText(`Notifications (Webhook at ${new URL(receiver.origin).host}) keep failing: the webhook at ${new URL(receiver.origin).host} answered 500. Check them in Settings → Notifications.`).waitFor();
    await screenshot(page, '63-dashboard-channel-failing');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.locator('li.channel', { hasText: 'Webhook at' }).getByText('Keeps failing').waitFor();
    await screenshot(page, '64-notifications-channel-failing');
    expect(await page.content()).not.toContain('token-in-path');
    expect(pageErrors).toEqual([]);
    expect(bugs).toEqual([]);
  });
});
