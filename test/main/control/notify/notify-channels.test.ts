import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../../../main/control/core/dispatch.js';
import { openController } from '../../../helpers/controller.js';
import { startHttpsReceiver, startSmtp } from '../../../helpers/receivers.js';

const PASSWORD = 'smtp-Pa55word-kept';
const TOKEN = 'tk_family0secret0token';

/** What must never leave the config folder's 0600 file: not the settings, not the state the GUI gets. */
function expectNowhere(secret: string, places: Record<string, string>): void {
  for (const [place, text] of Object.entries(places)) expect(text.includes(secret), `${place} holds the secret`).toBe(false);
}

describe('notification channels and their "Send a test"', () => {
  it('e-mail over STARTTLS with a login: a refused login in words, then the test arrives; an untrusted certificate in words; the password sealed in a 0600 file and opened after a restart', { timeout: 60_000 }, async () => {
    const smtp = await startSmtp({ user: 'backups@example.net', password: PASSWORD });
    const { controller, configDir } = await openController();
    await controller.updateSettings({ quietHours: { from: 22, to: 7 } });
    const email = { kind: 'email', host: '127.0.0.1', port: smtp.port, security: 'starttls', user: 'backups@example.net', from: 'backups@example.net', to: 'anna@example.net', checkCertificate: false } as const;

    let state = await controller.saveChannel({ ...email, secret: 'not-the-password' });
    const [channel] = state.notify.channels;
    expect(channel).toMatchObject({ settings: email, label: `E-mail to anna@example.net through 127.0.0.1:${smtp.port}`, hasSecret: true, problem: null, failing: false });
    const id = channel?.id as string;
    const refused = await controller.testChannel({ id });
    expect(refused.sent).toBe(false);
    expect(refused.message).toMatch(/^Not sent: the SMTP server refused the login \(535 .*\): check the user name and password; many providers want an app password here\.$/);
    expect(smtp.mails).toHaveLength(0);
    expect((await controller.getState()).notify.channels[0]?.problem).toMatch(/refused the login/);

    // The password is changed; the other fields stay.
    state = await controller.saveChannel({ ...email, id, secret: PASSWORD });
    const sent = await controller.testChannel({ id });
    expect(sent).toEqual({ sent: true, message: 'Sent: the mail server took the message for anna@example.net. Look in that mailbox (and in its spam folder).' });
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail?.subject).toBe('Test from Restic Tray Server');
    expect(mail?.from?.text).toBe('backups@example.net');
    expect(mail?.text).toMatch(/^This is a test\. Messages about the family’s backups will arrive here\./);
    expect((await controller.getState()).notify.channels[0]).toMatchObject({ problem: null, lastSentAt: expect.any(String) });

    // Left out, the secret is kept: only the certificate check changes, and the self-made certificate is refused.
    await controller.saveChannel({ ...email, id, checkCertificate: true });
    const untrusted = await controller.testChannel({ id });
    expect(untrusted.sent).toBe(false);
    expect(untrusted.message).toMatch(new RegExp(`^Not sent: the certificate of 127\\.0\\.0\\.1:${smtp.port} is not trusted \\(.+\\)\\. If it is your own server with a self-made certificate, switch off its certificate check\\.$`));

    // Sealed by the key file (headless mode has no system keychain), both 0600; opened again after a restart.
    const kept = join(configDir, 'notifications.json');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, 'notifications.key')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(kept, 'utf8')).channels[0].secret).toMatchObject({ lock: 'key-file', sealed: expect.any(String) });
    await controller.saveChannel({ ...email, id, checkCertificate: false });
    const reopened = await openController({ configDir });
    expect(await reopened.controller.testChannel({ id })).toMatchObject({ sent: true });
    expect(smtp.mails).toHaveLength(2);
    expectNowhere(PASSWORD, {
      'notifications.json': readFileSync(kept, 'utf8'),
      'settings.json': readFileSync(join(configDir, 'settings.json'), 'utf8'),
      state: JSON.stringify(await controller.getState()),
      'the log': JSON.stringify(await controller.recentSummaries()),
      'the mail': `${mail?.subject} ${mail?.text}`,
    });
  });

  it('ntfy: answered 403 without a token, in words; with it the message arrives with its priority; a webhook gets the documented body', { timeout: 60_000 }, async () => {
    const receiver = await startHttpsReceiver();
    receiver.answers.status = (request) => (request.path === '/' && request.headers.authorization !== `Bearer ${TOKEN}` ? 403 : 200);
    const { controller, configDir } = await openController();
    await controller.updateSettings({ staleDays: 4 });
    const ntfy = { kind: 'ntfy', server: receiver.origin, topic: 'family-backups', checkCertificate: false } as const;
    const state = await controller.saveChannel(ntfy);
    const id = state.notify.channels[0]?.id as string;
    expect(state.notify.channels[0]).toMatchObject({ label: `ntfy topic “family-backups” on ${new URL(receiver.origin).host}`, hasSecret: false });
    expect(await controller.testChannel({ id })).toEqual({ sent: false, message: 'Not sent: ntfy answered 403: the topic needs a token.' });

    await controller.saveChannel({ ...ntfy, id, secret: TOKEN });
    expect(await controller.testChannel({ id })).toEqual({ sent: true, message: 'Sent: ntfy took the message. It shows on the phones that follow the topic “family-backups”.' });
    const published = receiver.received.at(-1);
    expect(published?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(published?.body ?? '')).toMatchObject({ topic: 'family-backups', title: 'Test from Restic Tray Server', priority: 3 });

    const hook = `${receiver.origin}/hooks/abc-secret-path`;
    const withHook = await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: hook });
    const hookChannel = withHook.notify.channels[1];
    expect(hookChannel?.label).toBe(`Webhook at ${new URL(receiver.origin).host}`);
    expect(await controller.testChannel({ id: hookChannel?.id as string })).toEqual({ sent: true, message: 'Sent: the webhook took the message.' });
    const body = JSON.parse(receiver.received.at(-1)?.body ?? '') as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['computer', 'event', 'message', 'severity', 'time']);
    expect(body).toMatchObject({ event: 'test', severity: 'info', computer: null });

    receiver.answers.status = () => 404;
    expect((await controller.testChannel({ id: hookChannel?.id as string })).message).toBe(`Not sent: the webhook at ${new URL(receiver.origin).host} answered 404: nothing is at that address.`);

    expectNowhere(TOKEN, { 'settings.json': readFileSync(join(configDir, 'settings.json'), 'utf8'), state: JSON.stringify(await controller.getState()) });
    expectNowhere('abc-secret-path', { 'settings.json': readFileSync(join(configDir, 'settings.json'), 'utf8'), state: JSON.stringify(await controller.getState()) });

    await controller.removeChannel({ id });
    expect((await controller.getState()).notify.channels.map((channel) => channel.settings.kind)).toEqual(['webhook']);
    await expect(controller.testChannel({ id })).rejects.toThrow(/removed/);
  });

  it('refuses a webhook without an address and a ping for a computer that does not exist, in words', async () => {
    const { controller } = await openController();
    await expect(controller.saveChannel({ kind: 'webhook', checkCertificate: true })).rejects.toThrow('The address is needed: paste the one the service gave you.');
    await expect(controller.saveChannel({ kind: 'ping', username: 'nobody', checkCertificate: true, secret: 'https://hc-ping.com/x' })).rejects.toThrow('There is no such computer: choose one of the computers.');
  });

  it('refuses bad channel input at the edge, in words, before anything is kept', async () => {
    const { controller, configDir } = await openController();
    const bugs: unknown[] = [];
    const call = async (method: string, input: unknown) => dispatch(controller, method, input, (error) => bugs.push(error));
    const email = { kind: 'email', host: 'smtp.example.net', port: 587, security: 'starttls', user: 'me', from: 'me@example.net', to: 'you@example.net', checkCertificate: true };
    const refused: [string, unknown, RegExp][] = [
      ['saveChannel', { ...email, to: 'not an address' }, /to: a recipient address such as anna@example\.net/],
      ['saveChannel', { ...email, host: 'smtp.example.net; rm -rf' }, /host: a host name such as smtp\.gmail\.com/],
      ['saveChannel', { ...email, password: 'x' }, /Unrecognized key/],
      ['saveChannel', { kind: 'ntfy', server: 'ftp://ntfy.sh', topic: 'family', checkCertificate: true }, /server: an address starting with https:\/\//],
      ['saveChannel', { kind: 'ntfy', server: 'https://ntfy.sh', topic: 'family backups', checkCertificate: true }, /topic: a topic of letters, digits, - and _/],
      ['saveChannel', { kind: 'webhook', checkCertificate: true, secret: 'https://user:pass@hooks.example.net/x' }, /secret: an address starting with https:\/\//],
      ['saveChannel', { kind: 'pager', checkCertificate: true }, /kind/],
      ['updateSettings', { quietHours: { from: 22, to: 22 } }, /quiet hours that end at another hour than they start/],
      ['updateSettings', { quietHours: { from: 24, to: 7 } }, /an hour from 0 to 23/],
      ['updateSettings', { digest: 'monthly' }, /digest/],
      ['testChannel', { id: '../x' }, /a channel id/],
    ];
    for (const [method, input, words] of refused) {
      const outcome = await call(method, input);
      expect(outcome, JSON.stringify(input)).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringMatching(words) } });
    }
    expect(bugs).toEqual([]);
    expect((await controller.getState()).notify.channels).toEqual([]);
    expect(existsSync(join(configDir, 'notifications.json'))).toBe(false);
  });

  it('a secret whose lock changed is not guessed at: a notice says so, and the channel asks for it again', async () => {
    const { controller, configDir } = await openController();
    const state = await controller.saveChannel({ kind: 'webhook', checkCertificate: true, secret: 'https://hooks.example.net/secret-path' });
    const id = state.notify.channels[0]?.id as string;
    writeFileSync(join(configDir, 'notifications.key'), randomBytes(32), { mode: 0o600 });
    const reopened = await openController({ configDir });
    const after = await reopened.controller.getState();
    expect(after.notices.map((notice) => notice.message)).toContain(
      'Some notification secrets cannot be unlocked here (a webhook address): the lock they were kept with is not here, or changed. Give them again in Settings → Notifications.',
    );
    expect(after.notify.channels[0]).toMatchObject({ id, hasSecret: false, label: 'Webhook at no address yet' });
    expect(await reopened.controller.testChannel({ id })).toEqual({ sent: false, message: 'Not sent: its address is missing: give it again in Settings → Notifications.' });
  });
});
