import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { METHODS, type RendererApi } from '../../../main/contract.js';

/** Runs the bundled preload as Electron would, with only `electron` to require, and returns what it exposed. */
function loadPreload(invoke: (channel: string, input: unknown) => Promise<unknown>) {
  const exposed: Record<string, unknown> = {};
  const listeners: ((event: unknown, ...args: unknown[]) => void)[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (name: string, value: unknown) => (exposed[name] = value) },
    ipcRenderer: { invoke, on: (_channel: string, listener: (event: unknown, ...args: unknown[]) => void) => listeners.push(listener) },
  };
  const required: string[] = [];
  const require = (name: string) => {
    required.push(name);
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return electron;
  };
  runInNewContext(readFileSync('dist/main/electron/preload.cjs', 'utf8'), { require, module: { exports: {} }, exports: {} });
  return { exposed, required, emit: (...args: unknown[]) => listeners.forEach((listener) => listener({}, ...args)) };
}

describe('the preload', () => {
  it('exposes window.api (every method and on) and nothing else, requiring only electron', async () => {
    const calls: [string, unknown][] = [];
    const { exposed, required, emit } = loadPreload(async (channel, input) => {
      calls.push([channel, input]);
      return channel === 'api:getState' ? { ok: true, result: { status: 'serving' } } : { ok: false, error: { code: 'invalid-input', message: 'displayName: a name is needed' } };
    });
    expect(Object.keys(exposed)).toEqual(['api']);
    expect(new Set(required)).toEqual(new Set(['electron']));
    const api = exposed.api as RendererApi;
    expect(Object.keys(api).sort()).toEqual([...METHODS, 'on'].sort());
    expect(await api.getState()).toEqual({ status: 'serving' });
    await expect(api.addComputer({ displayName: '' })).rejects.toThrow('displayName: a name is needed');
    expect(calls).toEqual([
      ['api:getState', undefined],
      ['api:addComputer', { displayName: '' }],
    ]);
    const seen: unknown[] = [];
    const stop = api.on('notification', (note) => seen.push(note));
    emit('notification', { title: 'a', body: 'b' });
    emit('state', { ignored: true });
    stop();
    emit('notification', { title: 'after', body: 'stop' });
    expect(seen).toEqual([{ title: 'a', body: 'b' }]);
  });
});
