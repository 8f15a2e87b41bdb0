import { describe, expect, it, vi } from 'vitest';
import { openServing, waitForState } from '../../../helpers/controller.js';
import { startHttpsReceiver, startSmtp } from '../../../helpers/receivers.js';
import { writeRepository } from '../../../helpers/repository.js';
import { look } from '../../../helpers/state-looks.js';
import { FailingDisk, FakeUsbDisk } from '../../../helpers/tmpfs.js';
import { canMount, hasTool } from '../../../helpers/tools.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

describe('the backup disk in messages to the admin', () => {
  it.runIf(canMount())('unplugged for over an hour (test clock): one e-mail, none before; plugged back: the resolved e-mail', { timeout: 120_000 }, async () => {
    const disk = new FakeUsbDisk(16);
    const clock = { at: Date.now() };
    const { controller } = await openServing({ path: disk.mountPoint, now: () => clock.at, tickMs: 50 });
    const smtp = await startSmtp({ user: 'backups', password: 'mail-Pa55word' });
    await controller.saveChannel({ kind: 'email', host: '127.0.0.1', port: smtp.port, security: 'starttls', user: 'backups', from: 'backups@example.net', to: 'anna@example.net', checkCertificate: false, secret: 'mail-Pa55word' });

    disk.unplug();
    await waitForState(controller, (state) => state.status === 'disk-missing');
    // The app saw it go: the hour counts from here.
    await look(controller);
    clock.at += 59 * MINUTE;
    await look(controller);
    await look(controller);
    expect(smtp.mails).toHaveLength(0);

    clock.at += 2 * MINUTE;
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 15_000 });
    expect(smtp.mails[0]?.subject).toBe('Backups need you now');
    expect(smtp.mails[0]?.text).toMatch(/^The backup disk “usb” is not connected\. Plug it in: backups resume by themselves\. It has been away for 1 hour\./);
    clock.at += 3 * 3_600_000;
    await look(controller);
    expect(smtp.mails).toHaveLength(1);

    disk.plug();
    await waitForState(controller, (state) => state.status === 'serving');
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(2), { timeout: 15_000 });
    expect(smtp.mails[1]?.subject).toBe('Backups: resolved');
    expect(smtp.mails[1]?.text).toMatch(/^Resolved: The backup disk “usb” is not connected\./);
    expect(smtp.mails.map((mail) => `${mail.subject} ${mail.text}`).join('\n')).not.toContain('mail-Pa55word');
  });

  it.runIf(canMount() && hasTool('mkfs.btrfs'))('quiet hours (test clock): an overdue computer waits for the morning; a disk that fails to read does not', { timeout: 120_000 }, async () => {
    const disk = new FailingDisk();
    const clock = { at: Date.now() };
    // The first 23 o'clock at least 5 days ahead (a test run after 23 o'clock would otherwise find 4 days).
    const night = new Date(clock.at + 5 * DAY);
    night.setHours(23, 0, 0, 0);
    if (night.getTime() < clock.at + 5 * DAY) night.setDate(night.getDate() + 1);
    const { controller } = await openServing({ path: disk.mountPoint, now: () => clock.at, tickMs: 50 });
    await controller.updateSettings({ quietHours: { from: 22, to: 7 } });
    const gus = await controller.addComputer({ displayName: 'Gus' });
    const receiver = await startHttpsReceiver();
    await controller.saveChannel({ kind: 'ntfy', server: receiver.origin, topic: 'family', checkCertificate: false });
    const messages = () => receiver.received.map((request) => JSON.parse(request.body) as { title: string; message: string; priority: number });

    clock.at = night.getTime();
    const held = await waitForState(controller, (state) => state.notify.held === 1);
    expect(held.reasons.map((reason) => reason.key)).toEqual([`stale:${gus.username}`]);
    await look(controller);
    expect(messages()).toEqual([]);

    const [object] = writeRepository(disk.mountPoint, gus.username, 3, 200_000);
    disk.spoil(object?.path as string);
    await controller.checkIntegrity();
    await vi.waitFor(() => expect(messages()).toHaveLength(1), { timeout: 60_000 });
    expect(messages()[0]).toMatchObject({ title: 'Backups need you', priority: 4, message: expect.stringMatching(/^The backup disk returned read errors during the integrity check: it may be failing\./) });
    await look(controller);
    expect(messages()).toHaveLength(1);

    const morning = new Date(night);
    morning.setDate(morning.getDate() + 1);
    morning.setHours(7, 5, 0, 0);
    clock.at = morning.getTime();
    await vi.waitFor(() => expect(messages()).toHaveLength(3), { timeout: 15_000 });
    expect(messages().slice(1).map((message) => message.message).sort()).toEqual([
      expect.stringMatching(/^Damaged files were found in Gus’s backups and moved aside/),
      expect.stringMatching(/^Gus has never backed up \(added 5 days ago\)\./),
    ]);
    expect((await controller.getState()).notify.held).toBe(0);
  });
});
