import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { apr1, hashFormat, hashPassword, parseHtpasswd, summarizeProblems, verifyPassword } from '../../server/htpasswd.js';
import { parseUserPolicies } from '../../server/user-policy.js';
import { hasTool } from '../helpers/tools.js';

describe('htpasswd', () => {
  it('parses users, skipping comments and naming bad lines', () => {
    const { users, problems } = parseHtpasswd(
      ['# family', 'anna:{SHA}x', '', 'no-colon-line', 'bad user:{SHA}x', 'ben:weird', 'anna:$apr1$a$b', 'Zoë.K@home_1-2:{SHA}y'].join('\n'),
    );
    expect([...users.keys()]).toEqual(['anna', 'ben', 'Zoë.K@home_1-2']);
    expect(users.get('anna')?.format).toBe('apr1');
    expect(problems).toEqual([
      'line 4: expected user:hash',
      'line 5: invalid user name "bad user" (allowed: letters, digits, @ . _ -)',
      'user ben: unsupported password format "weird"; use bcrypt (htpasswd -B), {SHA} or $apr1$',
      'line 7: user anna appears again; the later line wins',
    ]);
  });

  it('never echoes unprintable junk, and sums up many problems in one line', () => {
    const junk = Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x07, 0x3a, 0x00, 0xff, 0x0a]).toString('latin1').repeat(30);
    const { users, problems } = parseHtpasswd(`${junk}\nanna:{SHA}x\n`);
    expect([...users.keys()]).toEqual(['anna']);
    const line = summarizeProblems(problems);
    expect(line).toMatch(/^30 problems: line 1: invalid user name \(allowed: letters, digits, @ \. _ -\); line 2: .*; and 28 more$/);
    expect(line).toMatch(/^[\x20-\x7e]*$/);
  });

  it.skipIf(!hasTool('openssl'))('computes $apr1$ exactly as openssl passwd -apr1', () => {
    for (const [password, salt] of [
      ['secret', 'abcdefgh'],
      ['', 'x'],
      ['a much longer password with ümlauts and spaces', 'Zz9./Qq1'],
    ] as const) {
      const expected = execFileSync('openssl', ['passwd', '-apr1', '-salt', salt, password]).toString().trim();
      expect(apr1(password, salt)).toBe(expected);
    }
  });

  it('verifies bcrypt ($2a$, $2b$, $2y$), {SHA} and $apr1$, and writes bcrypt', async () => {
    const hash = await hashPassword('pw');
    expect(hashFormat(hash)).toBe('bcrypt');
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const entry = { hash: prefix + hash.slice(4), format: 'bcrypt' as const };
      expect(await verifyPassword(entry, 'pw')).toBe(true);
      expect(await verifyPassword(entry, 'pW')).toBe(false);
    }
    const sha = { hash: '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', format: 'sha1' as const };
    expect(await verifyPassword(sha, 'password')).toBe(true);
    expect(await verifyPassword(sha, 'passwore')).toBe(false);
    const md5 = { hash: apr1('pw', 'saltsalt'), format: 'apr1' as const };
    expect(await verifyPassword(md5, 'pw')).toBe(true);
    expect(await verifyPassword(md5, 'px')).toBe(false);
  });
});

describe('the --policy file', () => {
  it('reads users with appendOnly and maintenance', () => {
    const policies = parseUserPolicies(JSON.stringify({ users: { kid: { appendOnly: true }, admin: { maintenance: true } } }), 'p.json');
    expect(policies.get('kid')).toEqual({ appendOnly: true });
    expect(policies.get('admin')).toEqual({ maintenance: true });
  });

  it.each([
    ['not json', /p.json: not valid JSON/],
    ['[]', /expected an object with "users"/],
    ['{"user": {}}', /unknown key "user" \(only "users"\)/],
    ['{"users": []}', /"users" must be an object/],
    ['{"users": {"bad name": {}}}', /invalid user name "bad name"/],
    ['{"users": {"kid": true}}', /the policy of kid must be an object/],
    ['{"users": {"kid": {"appendonly": true}}}', /unknown key "appendonly" for kid \(known: appendOnly, maintenance, quotaBytes\)/],
    ['{"users": {"kid": {"maintenance": "yes"}}}', /"maintenance" of kid must be a boolean/],
    ['{"users": {"kid": {"quotaBytes": -1}}}', /"quotaBytes" of kid must be a whole number of bytes/],
    ['{"users": {"kid": {"quotaBytes": 1.5}}}', /"quotaBytes" of kid must be a whole number of bytes/],
  ])('refuses %s', (text, message) => {
    expect(() => parseUserPolicies(text, 'p.json')).toThrow(message);
  });
});
