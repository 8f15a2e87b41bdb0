import { describe, expect, it } from 'vitest';
import { openServing, waitForState } from '../../../helpers/controller.js';
import { basic } from '../../../helpers/htpasswd.js';
import { code, makeObject, post, run } from '../../../helpers/http.js';
import { tempDir } from '../../../helpers/temp-dir.js';

/** Anna's computer halfway through a backup: its repository, config and one pack sent; `saveSnapshot` ends the backup. */
async function annaBackingUp() {
  const { controller, url } = await openServing();
  const { username, password } = await controller.addComputer({ displayName: 'Anna' });
  const auth = basic(username, password);
  const pack = makeObject(50_000);
  const snapshot = makeObject(300);
  await run(url, [
    { req: post(`/${username}/?create=true`, '', auth), want: [code(200)] },
    { req: post(`/${username}/config`, 'encrypted config', auth), want: [code(200)] },
    { req: post(`/${username}/data/${pack.id}`, pack.data, auth), want: [code(200)] },
  ]);
  const saveSnapshot = () => run(url, [{ req: post(`/${username}/snapshots/${snapshot.id}`, snapshot.data, auth), want: [code(200)] }]);
  return { controller, username, saveSnapshot };
}

describe('what the computers do', () => {
  it('the request log names the computer; its figures follow a backup; figures read from one disk never stand for another (its last backup is the newest on any disk)', async () => {
    const { controller, username, saveSnapshot } = await annaBackingUp();
    await saveSnapshot();

    await expect.poll(async () => (await controller.recentRequests({})).map((entry) => [entry.computer, entry.method, entry.type, entry.status])).toEqual([
      ['Anna', 'POST', null, 200],
      ['Anna', 'POST', 'config', 200],
      ['Anna', 'POST', 'data', 200],
      ['Anna', 'POST', 'snapshots', 200],
    ]);
    const state = await waitForState(controller, (s) => s.computers[0]?.snapshots === 1);
    // Every file counted once, however the 256 data folders' reads are queued: the pack, the snapshot and the config.
    expect(state.computers[0]?.sizeBytes).toBe(50_000 + 300 + 'encrypted config'.length);
    expect(state.computers[0]?.lastBackupAt).not.toBeNull();
    expect(state.computers[0]?.stale).toBe(false);

    const other = tempDir('rts-other-disk-');
    await controller.chooseFolder({ path: other });
    const moved = await waitForState(controller, (s) => s.storage?.folder === other && s.status === 'serving');
    // Its repository was laid out there from the copy of its config, empty; its last backup is the newest on any disk.
    expect(moved.computers[0]).toMatchObject({ username, snapshots: 0, lastBackupAt: state.computers[0]?.lastBackupAt });
    expect(moved.computers[0]?.sizeBytes).toBeLessThan(1000);
    expect(moved.computers[0]?.disks.map((disk) => [disk.current, disk.snapshots])).toEqual([
      [false, 1],
      [true, 0],
    ]);
  });

  it('a finished backup (its snapshot written) is published at once, not after the figures’ five-second wait or the next tick', async () => {
    const { controller, saveSnapshot } = await annaBackingUp();
    // The figures were just read: without the snapshot, they would be trusted for five seconds more.
    expect((await waitForState(controller, (s) => s.computers[0]?.sizeBytes !== null)).computers[0]?.lastBackupAt).toBeNull();
    const published: { snapshots: number; lastBackupAt: string | null }[] = [];
    controller.on('state', (state) => published.push({ snapshots: state.computers[0]?.snapshots ?? 0, lastBackupAt: state.computers[0]?.lastBackupAt ?? null }));
    await saveSnapshot();
    // Within four seconds: before the five-second wait could have ended (and the default tick is ten).
    await expect.poll(() => published.at(-1), { timeout: 4000 }).toMatchObject({ snapshots: 1, lastBackupAt: expect.any(String) });
  });
});
