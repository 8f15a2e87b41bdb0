import type { ApiError, ApiEvents, AppState, EventName, GuiAddress, RendererApi } from '../../main/contract.js';
import { useEffect, useState } from 'preact/hooks';

declare global {
  interface Window {
    /** Set by the Electron preload; in headless web mode the API goes over HTTP. */
    api?: RendererApi;
  }
}

/** A failed call, carrying the `{ code, message }` the main process sent. */
export class ApiFailure extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const EVENT_NAMES = Object.keys({ state: true, requests: true, summary: true, notification: true } satisfies Record<EventName, true>) as EventName[];

/** The access token in a GUI address's fragment (`#token=...`), which the browser never sends to a server. */
const tokenOf = (hash: string): string => /#token=([\w-]+)$/.exec(hash)?.[1] ?? '';

/**
 * The access token of headless mode, from the address this page was opened
 * with: taken out of the address bar at once and kept in this page's memory
 * only, so reloading the page forgets it.
 */
function takeToken(): string {
  const token = tokenOf(location.hash);
  if (token) history.replaceState(null, '', `${location.pathname}${location.search}`);
  return token;
}

/** Reads server-sent events from a streamed `fetch` (EventSource cannot send the token); reconnects like EventSource. */
async function streamEvents(token: () => string, deliver: (name: string, data: string) => void): Promise<void> {
  for (;;) {
    try {
      const response = await fetch('/api/events', { headers: { Authorization: `Bearer ${token()}` }, cache: 'no-store' });
      if (response.status === 401 || !response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += chunk.value;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const lines = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const name = lines.find((line) => line.startsWith('event: '))?.slice(7);
          const data = lines.find((line) => line.startsWith('data: '))?.slice(6);
          if (name !== undefined && data !== undefined) deliver(name, data);
        }
      }
    } catch {
      // The app is restarting or gone: try again below.
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** The contract over the headless bridge: `POST /api/<method>` and server-sent events, each with the token. */
function httpApi(): RendererApi {
  let token = takeToken();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const names = new Set<string>(EVENT_NAMES);
  if (token) {
    void streamEvents(() => token, (name, data) => {
      if (!names.has(name)) return;
      const payload = JSON.parse(data) as never;
      for (const listener of listeners.get(name as EventName) ?? []) listener(payload);
    });
  }
  const on = <E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void) => {
    const set = listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    listeners.set(event, set);
    return () => set.delete(listener as (payload: never) => void);
  };
  const call = async (method: string, input: unknown) => {
    let response: Response;
    try {
      response = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: input === undefined ? '' : JSON.stringify(input),
      });
    } catch {
      throw new ApiFailure('offline', 'The app does not answer. Is it still running?');
    }
    const body = (await response.json().catch(() => ({}))) as { result?: unknown; error?: ApiError };
    if (!response.ok || body.error) throw new ApiFailure(body.error?.code ?? 'failed', body.error?.message ?? `The app answered ${response.status}.`);
    // A new GUI address ends the old token at once: this page goes on with the new one (its event stream, ended by the app, comes back with it).
    if (method === 'newGuiAddress') token = tokenOf((body.result as GuiAddress).url);
    return body.result;
  };
  return new Proxy({} as RendererApi, {
    get: (_, name) => (name === 'on' ? on : (input?: unknown) => call(String(name), input)),
  });
}

export const api: RendererApi = window.api ?? httpApi();

/** What to show for a failed call: the app's own words when it sent them. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The app's state, kept current by the `state` event; or why it could not be loaded. */
export function useAppState(): [AppState | undefined, string | undefined] {
  const [state, setState] = useState<AppState>();
  const [failure, setFailure] = useState<string>();
  useEffect(() => {
    const stop = api.on('state', setState);
    api.getState().then(setState, (error: unknown) => setFailure(messageOf(error)));
    return stop;
  }, []);
  return [state, failure];
}
