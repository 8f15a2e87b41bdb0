import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openController, openServing } from '../../helpers/controller.js';

describe('the state after damage', () => {
  it('a damaged settings file is kept aside, the defaults are used, and the logins come back as computers', async () => {
    const { controller, configDir } = await openServing();
    const { username } = await controller.addComputer({ displayName: 'Dora' });
    await controller.close();
    writeFileSync(join(configDir, 'settings.json'), '{"version": 1, "port": "eighty"');

    const { controller: reopened } = await openController({ configDir });
    const state = await reopened.getState();
    expect(state.status).toBe('stopped');
    expect(state.notices.map((notice) => notice.message).join('\n')).toMatch(/settings file was damaged .* kept as .*settings\.json\.damaged-/);
    const aside = readdirSync(configDir).find((name) => name.startsWith('settings.json.damaged-')) as string;
    expect(readFileSync(join(configDir, aside), 'utf8')).toBe('{"version": 1, "port": "eighty"');
    expect(state.computers.map((computer) => computer.username)).toEqual([username]);
    expect(JSON.parse(readFileSync(join(configDir, 'settings.json'), 'utf8')).computers[0].username).toBe(username);
  });
});
