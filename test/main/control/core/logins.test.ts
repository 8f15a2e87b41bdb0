import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePassword, Logins, maintenanceUsername, usernameFor } from '../../../../main/control/core/logins.js';
import { USERNAME } from '../../../../server/htpasswd.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

describe('user names from display names', () => {
  it.each([
    ["Anna's Laptop", [], 'annas-laptop'],
    ['Zoë’s PC', [], 'zoes-pc'],
    ['  Dad  -- Desktop!! ', [], 'dad-desktop'],
    ['Ærø', [], 'ærø'],
    ['Кухня', [], 'кухня'],
    ['!!!', [], 'computer'],
    ['metrics', [], 'metrics-2'],
    ['Data', [], 'data-2'],
    ['Snapshots', [], 'snapshots-2'],
    ['config', [], 'config-2'],
    ['Keys', [], 'keys-2'],
    ['Maintenance', [], 'maintenance-2'],
    ['maintenance', ['maintenance-2'], 'maintenance-3'],
    ['Anna', ['anna'], 'anna-2'],
    ['Anna', ['anna', 'anna-2'], 'anna-3'],
    ['a'.repeat(31) + ' b', [], 'a'.repeat(31)],
  ] as [string, string[], string][])('%j -> %s', (name, taken, expected) => {
    const username = usernameFor(name, new Set(taken));
    expect(username).toBe(expected);
    expect(USERNAME.test(username)).toBe(true);
  });
});

describe('the maintenance login’s user name', () => {
  it('is `maintenance` unless a login of an older version holds it', () => {
    expect(maintenanceUsername(new Set(['anna']))).toBe('maintenance');
    expect(maintenanceUsername(new Set(['maintenance', 'maintenance-2']))).toBe('maintenance-3');
  });
});

describe('generated passwords', () => {
  it('are long, unambiguous and need no escaping anywhere', () => {
    const passwords = new Set(Array.from({ length: 200 }, generatePassword));
    expect(passwords.size).toBe(200);
    for (const password of passwords) expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{6}(-[a-km-zA-HJ-NP-Z2-9]{6}){3}$/);
  });
});

describe.runIf(hasTool('htpasswd'))('the password file', () => {
  it('holds bcrypt hashes that Apache’s htpasswd verifies, never the password, and is readable only by its owner', async () => {
    const file = join(tempDir('rts-logins-'), 'htpasswd');
    const logins = new Logins(file);
    await logins.ensure();
    expect(readFileSync(file, 'utf8')).toBe('');
    const password = generatePassword();
    await Promise.all([logins.set('anna', password), logins.set('bob', 'bobs password 1'), logins.set('carl', 'x'.repeat(20))]);
    await logins.remove('carl');
    const text = readFileSync(file, 'utf8');
    // The three were hashed at once: the file holds them in the order their hashes were ready.
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.sort().join('\n')).toMatch(/^anna:\$2[aby]\$10\$.{53}\nbob:\$2[aby]\$10\$.{53}$/);
    expect(text).not.toContain(password);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(spawnSync('htpasswd', ['-vb', file, 'anna', password]).status).toBe(0);
    expect(spawnSync('htpasswd', ['-vb', file, 'anna', 'wrong']).status).not.toBe(0);
    expect(spawnSync('htpasswd', ['-vb', file, 'bob', 'bobs password 1']).status).toBe(0);
  });
});
