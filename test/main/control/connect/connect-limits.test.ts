import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import { servingController } from '../../../helpers/client-computer.js';

/** GET over HTTPS from a given loopback address (Linux answers from all of 127.0.0.0/8), on a connection of its own. */
function getFrom(localAddress: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('wrong set-up codes from many addresses', () => {
  it('all addresses together get a minute’s budget of answers, the rest is refused at once with 429; a valid line still works meanwhile', { timeout: 120_000 }, async () => {
    let clock = Date.now();
    const { controller } = await servingController({ now: () => clock });
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const url = /"(https:[^"]+)"/.exec(line)?.[1] ?? '';
    const wrong = url.replace(/\/\.connect\/[a-z2-9]+\//, '/.connect/aaaaaaaaaaaaaaaaaaaa/');

    // 300 addresses, one wrong code each, 30 at a time.
    const statuses: number[] = [];
    const refusals = new Set<string>();
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => getFrom(`127.1.${batch}.${i + 1}`, wrong)));
      for (const answer of answers) {
        statuses.push(answer.status);
        if (answer.status === 429) refusals.add(answer.body);
      }
    }
    expect(statuses.filter((status) => status === 404)).toHaveLength(60);
    expect(statuses.filter((status) => status === 429)).toHaveLength(240);
    expect([...refusals]).toEqual([
      "#!/bin/sh\nprintf '%s\\n' 'Restic Tray Server: Too many wrong set-up lines reached the backup server in the last minute: wait a minute, then make a new line in the app (the computer’s page, Connect this computer).' >&2\nexit 1\n",
    ]);

    // The good line, from yet another address, while wrong ones are refused.
    const good = await getFrom('127.1.200.1', url);
    expect(good.status).toBe(200);
    expect(good.body).toContain(`LOGIN_USER='${anna.username}'`);

    // A minute later, a wrong code is answered (slowly) again.
    clock += 60_000;
    expect((await getFrom('127.1.201.1', wrong)).status).toBe(404);
  });
});
