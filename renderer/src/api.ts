import type { ApiError, ApiEvents, AppState, EventName, RendererApi } from '../../main/contract.js';
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

/** The contract over the headless bridge: `POST /api/<method>` and server-sent events. */
function httpApi(): RendererApi {
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const source = new EventSource('/api/events');
  for (const name of EVENT_NAMES) {
    source.addEventListener(name, (event) => {
      const payload = JSON.parse((event as MessageEvent<string>).data) as never;
      for (const listener of listeners.get(name) ?? []) listener(payload);
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
        headers: { 'Content-Type': 'application/json' },
        body: input === undefined ? '' : JSON.stringify(input),
      });
    } catch {
      throw new ApiFailure('offline', 'The app does not answer. Is it still running?');
    }
    const body = (await response.json().catch(() => ({}))) as { result?: unknown; error?: ApiError };
    if (!response.ok || body.error) throw new ApiFailure(body.error?.code ?? 'failed', body.error?.message ?? `The app answered ${response.status}.`);
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

/** The app's state, kept current by the `state` event. */
export function useAppState(): [AppState | undefined, (state: AppState) => void] {
  const [state, setState] = useState<AppState>();
  useEffect(() => {
    const stop = api.on('state', setState);
    void api.getState().then(setState);
    return stop;
  }, []);
  return [state, setState];
}
