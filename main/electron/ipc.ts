import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { EVENTS, METHODS, type ApiEvents, type EventName } from '../contract.js';
import { dispatch, type Outcome } from '../control/core/dispatch.js';
import type { BridgedApi } from '../headless/bridge.js';
import { methodChannel } from './channels.js';
import { isAppPage } from './window.js';

/** A call comes from the app's own page: its window's contents, showing the app:// GUI (not a page it was led to). */
export function isFromOwnPage(event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>, own: WebContents | undefined): boolean {
  return own !== undefined && event.sender === own && isAppPage(event.senderFrame?.url ?? '');
}


/**
 * One IPC handler per contract method, generated from the list. A call from
 * anything but the app's own page is dropped; every input goes through the
 * method's schema (`dispatch`) before use.
 */
export function registerIpc(api: BridgedApi, isOwnPage: (event: IpcMainInvokeEvent) => boolean, onBug: (error: unknown) => void): () => void {
  for (const method of METHODS) {
    ipcMain.handle(methodChannel(method), async (event, input: unknown): Promise<Outcome> => {
      if (!isOwnPage(event)) return { ok: false, error: { code: 'forbidden', message: 'Only the app’s own window may call it.' } };
      return dispatch(api, method, input, onBug);
    });
  }
  return () => {
    for (const method of METHODS) ipcMain.removeHandler(methodChannel(method));
  };
}

/** Passes the controller's events to the window. */
export function forwardEvents(api: BridgedApi, send: (event: EventName, payload: ApiEvents[EventName]) => void): () => void {
  const stops = EVENTS.map((event) => {
    const listener = (payload: ApiEvents[EventName]) => send(event, payload);
    api.on(event, listener as never);
    return () => api.off(event, listener as never);
  });
  return () => {
    for (const stop of stops) stop();
  };
}
