import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { AppState } from '../../../../main/contract.js';
import { RCLONE_CONFIG_FILE } from '../../../../main/control/offsite/offsite-targets.js';
import { backedUpLaptop, paste, servingController } from '../../../helpers/client-computer.js';
import { waitForState } from '../../../helpers/controller.js';
import { startHttpsReceiver, type Received } from '../../../helpers/receivers.js';
import { damageLargestPack } from '../../../helpers/repository.js';
import { look, published } from '../../../helpers/state-looks.js';
import { SshServer } from '../../../helpers/sshd.js';
import { hasTool } from '../../../helpers/tools.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

/** A controller whose clock the test moves; it looks at its state every 50 ms. */
async function withClock() {
  const clock = { at: Date.now() };
  const opened = await servingController({ now: () => clock.at, tickMs: 50 });
  return { ...opened, clock };
}

/** The webhook bodies received so far. */
const bodies = (received: Received[], path: string) => received.filter((request) => request.path === path).map((request) => JSON.parse(request.body) as { event: string; severity: string; computer: string | null; message: string; time: string });

describe.runIf(hasTool('restic'))('problems told to the admin, once, and their recovery', () => {
  it('a computer overdue (test clock): one webhook message over many looks and a /fail ping; its next backup: resolved, and a ping', { timeout: 180_000 }, async () => {
    const { controller, clock } = await withClock();
    const { anna, home, lines } = await backedUpLaptop(controller, 2, 100_000);
    const receiver = await startHttpsReceiver();
    await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/hook/secret-token` });
    await controller.saveChannel({ kind: 'ping', username: anna.username, checkCertificate: false, secret: `${receiver.origin}/ping/5f1c-uuid` });
    await look(controller);
    expect(receiver.received).toEqual([]);

    clock.at = Date.now() + 4 * DAY + MINUTE;
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook/secret-token')).toHaveLength(1), { timeout: 10_000 });
    const [problem] = bodies(receiver.received, '/hook/secret-token');
    expect(problem).toEqual({ event: 'problem', severity: 'warning', computer: "Anna's laptop", message: "Anna's laptop has not backed up for 4 days.", time: new Date(clock.at).toISOString() });
    await vi.waitFor(() => expect(receiver.received.map((request) => request.path)).toContain('/ping/5f1c-uuid/fail'));

    // Days pass and the state changes with them (the sentence counts the days): still one message.
    for (const days of [5, 6, 7]) {
      clock.at += DAY;
      await published(controller, (state) => state.sentence.includes(`for ${days} days`));
    }
    await look(controller);
    await look(controller);
    expect(bodies(receiver.received, '/hook/secret-token').map((body) => `${body.event}: ${body.message}`)).toEqual([`problem: ${problem?.message}`]);
    expect(receiver.received.filter((request) => request.path === '/ping/5f1c-uuid/fail')).toHaveLength(1);

    // Its next backup arrives (the ping says so); with the clock back at the backup's time it is no longer overdue.
    await paste(lines, 'backup', home);
    await vi.waitFor(() => expect(receiver.received.filter((request) => request.path === '/ping/5f1c-uuid')).toHaveLength(1), { timeout: 15_000 });
    clock.at = Date.now();
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook/secret-token')).toHaveLength(2), { timeout: 15_000 });
    expect(bodies(receiver.received, '/hook/secret-token')[1]).toMatchObject({ event: 'resolved', severity: 'info', computer: "Anna's laptop", message: "Resolved: Anna's laptop has not backed up for 4 days." });
    // Nothing secret in any message: not the addresses' tokens, not the login.
    const all = receiver.received.map((request) => request.body).join('\n');
    for (const secret of ['secret-token', '5f1c-uuid', anna.password]) expect(all.includes(secret)).toBe(false);
  });

  it('damage found by the integrity check: told with the computer; marked repaired: resolved', { timeout: 180_000 }, async () => {
    const { controller } = await withClock();
    const { anna } = await backedUpLaptop(controller, 2, 300_000);
    const receiver = await startHttpsReceiver();
    await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/hook` });
    const folder = (await controller.getState()).storage?.folder as string;
    damageLargestPack(join(folder, anna.username));

    await controller.checkIntegrity();
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook')).toHaveLength(1), { timeout: 60_000 });
    expect(bodies(receiver.received, '/hook')[0]).toMatchObject({ event: 'problem', severity: 'warning', computer: "Anna's laptop", message: expect.stringMatching(/^Damaged files were found in Anna's laptop’s backups and moved aside/) });
    await waitForState(controller, (state) => state.integrity.running === null);
    await controller.markRepaired({ repo: anna.username });
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook')).toHaveLength(2), { timeout: 10_000 });
    expect(bodies(receiver.received, '/hook')[1]).toMatchObject({ event: 'resolved', computer: "Anna's laptop", message: expect.stringMatching(/^Resolved: Damaged files were found in Anna's laptop’s backups/) });
  });

  it('a channel that fails is retried with a growing wait, shows on the dashboard after three failures (told to the other channels), and clears once a message goes out (at once when its address is corrected)', { timeout: 180_000 }, async () => {
    const { controller, clock } = await withClock();
    await backedUpLaptop(controller, 1, 50_000);
    const receiver = await startHttpsReceiver();
    receiver.answers.status = (request) => (request.path === '/broken' ? 500 : 200);
    // Its refusals come slowly: the clock moves on while an attempt waits for its answer, and the next wait still counts from the attempt.
    receiver.answers.delayMs = (request) => (request.path === '/broken' ? 500 : 0);
    const broken = (await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/broken` })).notify.channels[0]?.id as string;
    await controller.saveChannel({ kind: 'ntfy', server: receiver.origin, topic: 'family', checkCertificate: false });
    const attempts = () => receiver.received.filter((request) => request.path === '/broken').length;

    clock.at = Date.now() + 4 * DAY + MINUTE;
    await vi.waitFor(() => expect(attempts()).toBe(1), { timeout: 10_000 });
    // No retry before its wait (a minute) is over, however often the app looks.
    await look(controller);
    clock.at += 30_000;
    await look(controller);
    await look(controller);
    expect(attempts()).toBe(1);
    clock.at += 30_000;
    await vi.waitFor(() => expect(attempts()).toBe(2), { timeout: 10_000 });
    clock.at += 2 * MINUTE;
    await vi.waitFor(() => expect(attempts()).toBe(3), { timeout: 10_000 });
    const failing = await waitForState(controller, (state) => state.reasons.some((reason) => reason.key === `channel-failing:${broken}`));
    expect(failing.reasons.find((reason) => reason.key === `channel-failing:${broken}`)?.message).toBe(
      `Notifications (Webhook at ${new URL(receiver.origin).host}) keep failing: the webhook at ${new URL(receiver.origin).host} answered 500. Check them in Settings → Notifications.`,
    );
    expect(failing.notify.channels[0]).toMatchObject({ failing: true });
    await vi.waitFor(() => expect(receiver.received.filter((request) => request.path === '/').map((request) => (JSON.parse(request.body) as { message: string }).message)).toContainEqual(expect.stringMatching(/keep failing/)));
    // Its own failure is not sent to it.
    expect(receiver.received.filter((request) => request.path === '/broken').some((request) => request.body.includes('keep failing'))).toBe(false);

    // The address corrected in Settings: the waiting message goes at once, without waiting for its next try.
    await controller.saveChannel({ id: broken, kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/fixed` });
    const cleared = await waitForState(controller, (state) => !state.reasons.some((reason) => reason.key.startsWith('channel-failing:')));
    expect(cleared.notify.channels[0]).toMatchObject({ failing: false, problem: null });
    expect(bodies(receiver.received, '/fixed')).toEqual([expect.objectContaining({ event: 'problem', message: expect.stringMatching(/has not backed up for 4 days/) })]);
  });

  it('an address corrected while a message to the old one is still waiting for its answer: the message goes to the new one at once, not after the old one’s wait', { timeout: 60_000 }, async () => {
    const { controller, clock } = await withClock();
    await controller.addComputer({ displayName: 'Gus' });
    const receiver = await startHttpsReceiver();
    receiver.answers.status = (request) => (request.path === '/old' ? 500 : 200);
    receiver.answers.delayMs = (request) => (request.path === '/old' ? 2000 : 0);
    const id = (await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/old` })).notify.channels[0]?.id as string;

    clock.at = Date.now() + 4 * DAY + MINUTE;
    await vi.waitFor(() => expect(receiver.received.map((request) => request.path)).toEqual(['/old']), { timeout: 10_000 });
    // The old address answers in 2 s; it is corrected before that, and the clock stays where it is.
    await controller.saveChannel({ id, kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/new` });
    await vi.waitFor(() => expect(bodies(receiver.received, '/new')).toHaveLength(1), { timeout: 10_000 });
    expect(bodies(receiver.received, '/new')[0]).toMatchObject({ event: 'problem', computer: 'Gus', message: expect.stringMatching(/^Gus has never backed up/) });
    expect(receiver.received.map((request) => request.path)).toEqual(['/old', '/new']);
  });

  it('the daily digest: the dashboard’s numbers, once a day', { timeout: 180_000 }, async () => {
    const { controller, clock } = await withClock();
    await backedUpLaptop(controller, 2, 100_000);
    await controller.checkIntegrity();
    await waitForState(controller, (state) => state.integrity.running === null && state.integrity.disks[0]?.lastCheckedAt !== null, 60_000);
    const receiver = await startHttpsReceiver();
    await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/hook` });
    // The digest goes out from 8 o'clock: the clock moves there when it is earlier.
    const at = new Date(clock.at);
    if (at.getHours() < 8) at.setHours(8, 30, 0, 0);
    clock.at = at.getTime();
    await controller.updateSettings({ digest: 'daily' });
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook')).toHaveLength(1), { timeout: 10_000 });
    const dashboard = await controller.getState();
    const storage = dashboard.storage as NonNullable<AppState['storage']>;
    const used = Math.round((1 - storage.freeBytes / storage.totalBytes) * 100);
    const [digest] = bodies(receiver.received, '/hook');
    expect(digest?.event).toBe('digest');
    expect(digest?.message.split('\n')).toEqual([
      `All ${dashboard.computers.length} computer backed up today.`,
      `The backup disk is ${used}% used.`,
      'The last integrity check was clean.',
      'Nothing needs you.',
    ]);

    clock.at += 2 * 3_600_000;
    await look(controller);
    await look(controller);
    expect(bodies(receiver.received, '/hook')).toHaveLength(1);
  });

  it.runIf(hasTool('sshd') && hasTool('rclone'))('the offsite copy failing (its SSH server switched off): told once with the reason; back on and copied: resolved', { timeout: 180_000 }, async () => {
    const { controller, configDir } = await servingController();
    await backedUpLaptop(controller, 2, 100_000);
    const ssh = await SshServer.start();
    writeFileSync(join(configDir, RCLONE_CONFIG_FILE), ssh.rcloneConfig('relative'), { mode: 0o600 });
    await controller.setOffsite({ remote: `relative:${ssh.folder}` });
    await controller.copyOffsiteNow();
    await waitForState(controller, (state) => state.offsite.lastCopyAt !== null && state.offsite.running === null, 60_000);
    const receiver = await startHttpsReceiver();
    await controller.saveChannel({ kind: 'webhook', checkCertificate: false, secret: `${receiver.origin}/hook` });

    ssh.stop();
    await controller.copyOffsiteNow();
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook')).toHaveLength(1), { timeout: 60_000 });
    expect(bodies(receiver.received, '/hook')[0]).toMatchObject({ event: 'problem', severity: 'warning', computer: null, message: expect.stringMatching(/^The offsite copy did not work: The SFTP server at 127\.0\.0\.1:\d+ refused the connection/) });
    await controller.copyOffsiteNow().catch(() => undefined);
    await waitForState(controller, (state) => state.offsite.running === null && state.offsite.problem !== null, 60_000);
    expect(bodies(receiver.received, '/hook')).toHaveLength(1);

    await ssh.resume();
    await controller.copyOffsiteNow();
    await vi.waitFor(() => expect(bodies(receiver.received, '/hook')).toHaveLength(2), { timeout: 60_000 });
    expect(bodies(receiver.received, '/hook')[1]).toMatchObject({ event: 'resolved', message: expect.stringMatching(/^Resolved: The offsite copy did not work/) });
  });
});
