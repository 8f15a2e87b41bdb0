import { inflateSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import type { AppState } from '../../../main/contract.js';
import type { TrayAction } from '../../../main/control/tray-model.js';
import { trayIcon } from '../../../main/electron/tray-icons.js';
import { AppTray } from '../../../main/electron/tray.js';
import { Tray, type FakeImage, type FakeMenuItem } from '../../fakes/electron.js';
import { openController } from '../../helpers/controller.js';

vi.mock('electron', () => import('../../fakes/electron.js'));

/** Reads back the pixels of a PNG the app made (8-bit RGBA, no interlace, filter 0 rows). */
function pixels(png: Buffer): { size: number; at: (x: number, y: number) => number[] } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const size = png.readUInt32BE(16);
  const idat = png.indexOf('IDAT');
  const rows = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
  return { size, at: (x, y) => [...rows.subarray(y * (size * 4 + 1) + 1 + x * 4, y * (size * 4 + 1) + 5 + x * 4)] };
}

describe('tray icons', () => {
  it.each([
    ['grey', [138, 148, 163]],
    ['green', [22, 163, 74]],
    ['yellow', [217, 119, 6]],
    ['red', [220, 38, 38]],
  ] as const)('%s: a circle of that colour with a white ring, transparent corners', (colour, rgb) => {
    const { size, at } = pixels(trayIcon(colour, 32, false));
    expect(size).toBe(32);
    expect(at(16, 16)).toEqual([...rgb, 255]);
    expect(at(16, 1).slice(0, 3)).toEqual([255, 255, 255]);
    expect(at(0, 0)[3]).toBe(0);
  });

  it('macOS templates are black with alpha; stopped is a hollow ring', () => {
    expect(pixels(trayIcon('green', 36, true)).at(18, 18)).toEqual([0, 0, 0, 255]);
    expect(pixels(trayIcon('grey', 36, true)).at(18, 18)).toEqual([0, 0, 0, 0]);
    expect(pixels(trayIcon('grey', 36, true)).at(18, 1)[3]).toBeGreaterThan(200);
  });
});

describe('the tray', () => {
  it('follows the state: icon, tooltip and menu rebuilt on each change, actions wired', async () => {
    const { controller } = await openController();
    const actions: TrayAction[] = [];
    const tray = new AppTray(await controller.getState(), (action) => actions.push(action), 'linux');
    const fake = Tray.created.at(-1) as Tray;
    const labels = () => (fake.menu?.items ?? []).map((item: FakeMenuItem) => item.label ?? '—');
    expect(labels()).toEqual(['The backup server is stopped.', '—', 'Start the server', 'Open Restic Tray Server', 'Copy the client address', '—', 'Quit']);
    expect(fake.tooltip).toBe('Restic Tray Server: The backup server is stopped.');
    const greyIcon = fake.image as FakeImage;
    expect(greyIcon.representations).toHaveLength(1);

    const serving: AppState = { ...(await controller.getState()), status: 'serving', colour: 'green', sentence: 'Serving.', clientUrl: 'https://192.168.1.20:8000/' };
    tray.update(serving);
    expect(labels()[0]).toBe('Serving.');
    expect(labels()[2]).toBe('Stop the server');
    expect(fake.image).not.toBe(greyIcon);
    const updates = fake.updates;
    tray.update({ ...serving });
    expect(fake.updates).toBe(updates);

    for (const item of fake.menu?.items ?? []) item.click?.();
    fake.emit('click');
    expect(actions).toEqual(['toggle', 'open', 'copy-address', 'quit', 'open']);
    expect((fake.menu?.items[0] as FakeMenuItem).enabled).toBe(false);
    tray.destroy();
    expect(fake.destroyed).toBe(true);
  });

  it('uses template images on macOS', async () => {
    const { controller } = await openController();
    new AppTray(await controller.getState(), () => undefined, 'darwin');
    expect((Tray.created.at(-1)?.image as FakeImage).template).toBe(true);
  });
});
