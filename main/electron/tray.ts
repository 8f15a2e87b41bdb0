import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import type { AppState } from '../contract.js';
import { trayModel, type TrayAction, type TrayModel } from '../control/tray-model.js';
import { trayIcon } from './tray-icons.js';

/** The Electron menu for a tray model: the status line (not clickable), then the actions. */
export function menuTemplate(model: TrayModel, act: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return model.menu.map((item): MenuItemConstructorOptions => {
    if (item.kind === 'separator') return { type: 'separator' };
    if (item.kind === 'status') return { label: item.label, enabled: false };
    return { label: item.label, enabled: item.enabled, click: () => act(item.action) };
  });
}

/** Icon sizes per platform: 16 px (32 on high-density screens) on Windows and Linux, 18/36 px templates on macOS. */
function iconFor(colour: AppState['colour'], platform: NodeJS.Platform) {
  const template = platform === 'darwin';
  const size = template ? 18 : 16;
  const image = nativeImage.createFromBuffer(trayIcon(colour, size, template));
  image.addRepresentation({ scaleFactor: 2, buffer: trayIcon(colour, size * 2, template) });
  if (template) image.setTemplateImage(true);
  return image;
}

/** The tray icon, rebuilt from the state on every change. */
export class AppTray {
  private readonly tray: Tray;
  private shown: string | undefined;

  constructor(
    state: AppState,
    private readonly act: (action: TrayAction) => void,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    this.tray = new Tray(iconFor(state.colour, platform));
    this.tray.on('click', () => act('open'));
    this.update(state);
  }

  update(state: AppState): void {
    const model = trayModel(state);
    const key = JSON.stringify(model);
    if (key === this.shown) return;
    this.shown = key;
    this.tray.setImage(iconFor(model.colour, this.platform));
    this.tray.setToolTip(model.tooltip);
    this.tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(model, this.act)));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
