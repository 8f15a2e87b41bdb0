import { EventEmitter } from 'node:events';

/**
 * A small stand-in for the parts of Electron's API that main/electron uses,
 * for `vi.mock('electron', ...)`: it records what the code asked for.
 */

export class FakeWebContents extends EventEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  sent: unknown[][] = [];
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  send(...args: unknown[]): void {
    this.sent.push(args);
  }
}

export class BrowserWindow extends EventEmitter {
  static created: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  minimized = false;
  loaded: string | undefined;
  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.created.push(this);
    // As in Electron: every new web contents is announced app-wide.
    app.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  minimize(): void {
    this.minimized = true;
  }
  /** Plays the user closing the window; returns whether the close went ahead. */
  close(): boolean {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    return !prevented;
  }
}

type Handler = (event: unknown, ...args: unknown[]) => unknown;
export const ipcMain = {
  handlers: new Map<string, Handler>(),
  handle(channel: string, handler: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`a second handler for ${channel}`);
    this.handlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  },
};

export const session = {
  defaultSession: {
    requestHandler: undefined as ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined,
    checkHandler: undefined as ((contents: unknown, permission: string) => boolean) | undefined,
    setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void {
      this.requestHandler = handler;
    },
    setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void {
      this.checkHandler = handler;
    },
  },
};

export const protocol = {
  privileged: [] as unknown[],
  handlers: new Map<string, (request: Request) => Promise<Response>>(),
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    this.privileged.push(...schemes);
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
    this.handlers.set(scheme, handler);
  },
};

export class FakeImage {
  template = false;
  representations: unknown[] = [];
  constructor(readonly buffer: Buffer) {}
  addRepresentation(representation: unknown): void {
    this.representations.push(representation);
  }
  setTemplateImage(template: boolean): void {
    this.template = template;
  }
}
export const nativeImage = { createFromBuffer: (buffer: Buffer) => new FakeImage(buffer) };

export interface FakeMenuItem {
  role?: string;
  label?: string;
  type?: string;
  enabled?: boolean;
  click?: () => void;
}
export const Menu = {
  buildFromTemplate: (template: FakeMenuItem[]) => ({ items: template }),
  /** What the app set as its application menu (undefined: never set, so Electron's default with DevTools). */
  application: undefined as { items: FakeMenuItem[] } | null | undefined,
  setApplicationMenu(menu: { items: FakeMenuItem[] } | null): void {
    this.application = menu;
  },
};

export class Tray extends EventEmitter {
  static created: Tray[] = [];
  image: FakeImage;
  tooltip = '';
  menu: { items: FakeMenuItem[] } | undefined;
  updates = 0;
  destroyed = false;
  constructor(image: FakeImage) {
    super();
    this.image = image;
    Tray.created.push(this);
  }
  setImage(image: FakeImage): void {
    this.image = image;
  }
  setToolTip(tooltip: string): void {
    this.tooltip = tooltip;
  }
  setContextMenu(menu: { items: FakeMenuItem[] }): void {
    this.menu = menu;
    this.updates++;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

export const powerSaveBlocker = {
  next: 1,
  active: new Set<number>(),
  start(type: string): number {
    if (type !== 'prevent-app-suspension') throw new Error(`unexpected blocker ${type}`);
    const id = this.next++;
    this.active.add(id);
    return id;
  },
  stop(id: number): void {
    this.active.delete(id);
  },
};

export const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  loginItems: [] as unknown[],
  exitCode: undefined as number | undefined,
  getAppPath: () => '/opt/restic-tray-server/resources/app',
  setLoginItemSettings(settings: unknown): void {
    this.loginItems.push(settings);
  },
  exit(code: number): void {
    this.exitCode = code;
  },
});

/** The system keychain: `available` and `backend` play a desktop with or without a keyring; sealed text is reversed behind a marker, so that it is not the plain text. */
export const safeStorage = {
  available: true,
  backend: 'gnome_libsecret' as 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown',
  isAsyncEncryptionAvailable(): Promise<boolean> {
    return Promise.resolve(this.available);
  },
  getSelectedStorageBackend(): typeof this.backend {
    return this.backend;
  },
  encryptStringAsync(text: string): Promise<Buffer> {
    return Promise.resolve(Buffer.concat([Buffer.from('sealed:'), Buffer.from(text).reverse()]));
  },
  decryptStringAsync(sealed: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }> {
    if (!sealed.subarray(0, 7).equals(Buffer.from('sealed:'))) return Promise.reject(new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.'));
    return Promise.resolve({ shouldReEncrypt: false, result: Buffer.from(sealed.subarray(7)).reverse().toString() });
  },
};
