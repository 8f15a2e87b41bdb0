import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { post, send } from '../helpers/http.js';
import { addUser, basic, htpasswdFile } from '../helpers/htpasswd.js';
import { startServer } from '../helpers/running-server.js';
import { hasTool } from '../helpers/tools.js';

const htpasswd = (...args: string[]) => promisify(execFile)('htpasswd', args);

describe.skipIf(!hasTool('htpasswd'))('the password file edited in place by Apache htpasswd', () => {
  it('never refuses a user whose line did not change, however the reloads fall during the edits', { timeout: 120_000 }, async () => {
    // htpasswd truncates the file and then copies the new text into it. With
    // anna in the middle of a file longer than one write of that copy, a read
    // that falls inside it sees an empty file or one that stops before her.
    const file = htpasswdFile([]);
    addUser(file, 'anna', 'right', 'B', 4);
    const anna = readFileSync(file, 'utf8');
    const filler = anna.replace(/^anna:/, '');
    const others = (from: number) => Array.from({ length: 150 }, (_, i) => `family${from + i}:${filler}`).join('');
    writeFileSync(file, others(0) + anna + others(150));
    const { url, server } = await startServer({ noAuth: false, htpasswdFile: file });
    let editing = true;
    // The reload SIGHUP asks for, as often as the server can take it: each is a chance to catch htpasswd half-way.
    const reloads = (async () => {
      while (editing) {
        server.reloadUsers();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const statuses: number[] = [];
    const work = (async () => {
      while (editing) statuses.push((await send(url, post('/anna/?create=true', '', basic('anna', 'right')))).status);
    })();
    for (let i = 0; i < 30; i++) {
      await htpasswd('-b', '-B', '-C', '4', file, `guest${i}`, 'pw');
      await htpasswd('-D', file, `guest${i}`);
    }
    editing = false;
    await Promise.all([reloads, work]);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(statuses.length).toBeGreaterThan(5);
    // The edits still take effect once the file settles: an added user gets in, a removed one (a shorter file) is out.
    const ben = () => send(url, post('/ben/?create=true', '', basic('ben', 'his'))).then((res) => res.status);
    await htpasswd('-b', '-B', '-C', '4', file, 'ben', 'his');
    await expect.poll(ben, { timeout: 10_000 }).toBe(200);
    await htpasswd('-D', file, 'ben');
    await expect.poll(ben, { timeout: 10_000 }).toBe(401);
  });
});
