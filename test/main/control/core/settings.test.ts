import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, SettingsStore } from '../../../../main/control/core/settings.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('the settings file', () => {
  it('starts from the defaults and keeps what was saved, in a file only its owner reads', async () => {
    const store = new SettingsStore(tempDir('rts-config-'));
    expect(await store.load()).toEqual({ settings: DEFAULT_SETTINGS });
    const changed = { ...DEFAULT_SETTINGS, port: 8443, staleDays: 7, listenAddresses: ['192.168.1.20'] };
    await Promise.all([store.save({ ...changed, port: 1 }), store.save(changed)]);
    expect(await store.load()).toEqual({ settings: changed });
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(store.configDir)).toEqual(['settings.json']);
  });

  it.each([
    ['not JSON', '{"version": 1,', /not valid JSON/],
    ['a wrong type', JSON.stringify({ ...DEFAULT_SETTINGS, port: 'eighty' }), /port: /],
    ['an unknown key', JSON.stringify({ ...DEFAULT_SETTINGS, password: 'hunter2' }), /Unrecognized key.*password/],
    ['a bad address', JSON.stringify({ ...DEFAULT_SETTINGS, listenAddresses: ['everywhere'] }), /listenAddresses/],
    ['another version', JSON.stringify({ ...DEFAULT_SETTINGS, version: 2 }), /version/],
  ])('a file with %s is kept aside and the defaults are used', async (_, content, problem) => {
    const store = new SettingsStore(tempDir('rts-config-'));
    writeFileSync(store.file, content);
    const loaded = await store.load(new Date('2026-11-23T12:00:00.000Z'));
    expect(loaded.settings).toEqual(DEFAULT_SETTINGS);
    expect(loaded.problem).toMatch(problem);
    expect(readFileSync(join(store.configDir, 'settings.json.damaged-2026-11-23T12-00-00-000Z'), 'utf8')).toBe(content);
  });

  it('refuses to save settings that break the schema, leaving the file as it was', async () => {
    const store = new SettingsStore(tempDir('rts-config-'));
    await store.save(DEFAULT_SETTINGS);
    await expect(store.save({ ...DEFAULT_SETTINGS, port: 0 })).rejects.toThrow();
    expect((await store.load()).settings).toEqual(DEFAULT_SETTINGS);
  });
});
