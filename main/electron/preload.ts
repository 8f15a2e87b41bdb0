import { contextBridge, ipcRenderer } from 'electron';
import { EVENTS, METHODS, type ApiEvents, type EventName } from '../contract.js';
import { EVENT_CHANNEL, methodChannel } from './channels.js';

// Bundled into one file (a sandboxed preload may only require 'electron').
// It exposes `window.api` and nothing else: each method is an IPC call whose
// failure becomes an Error with the app's message.

const listeners = new Map<EventName, Set<(payload: never) => void>>();
ipcRenderer.on(EVENT_CHANNEL, (_event, name: EventName, payload: unknown) => {
  for (const listener of listeners.get(name) ?? []) listener(payload as never);
});

const api: Record<string, unknown> = {
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
    if (!EVENTS.includes(event)) throw new Error(`unknown event ${String(event)}`);
    const set = listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    listeners.set(event, set);
    return () => set.delete(listener as (payload: never) => void);
  },
};
for (const method of METHODS) {
  api[method] = async (input?: unknown) => {
    const outcome = (await ipcRenderer.invoke(methodChannel(method), input)) as { ok: true; result: unknown } | { ok: false; error: { message: string } };
    if (!outcome.ok) throw new Error(outcome.error.message);
    return outcome.result;
  };
}

contextBridge.exposeInMainWorld('api', api);
