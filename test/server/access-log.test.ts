import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apacheTime, combinedLogLine } from '../../server/access-log.js';
import type { RequestEvent } from '../../server/events.js';
import { startCli } from '../helpers/cli-process.js';
import { code, get, makeObject, post, run } from '../helpers/http.js';
import { basic, htpasswdFile } from '../helpers/htpasswd.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

const COMBINED = /^(\S+) - (\S+) \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$/;

describe('access log', () => {
  it('formats Apache combined lines that a forged header cannot break', () => {
    const event: RequestEvent = {
      time: new Date(2026, 10, 23, 8, 5, 9),
      remoteAddress: '192.0.2.7',
      user: 'anna',
      method: 'GET',
      path: '/anna/config',
      url: '/anna/config',
      httpVersion: '1.1',
      referer: null,
      userAgent: 'evil"\n127.0.0.1 - admin',
      repo: 'anna',
      type: 'config',
      id: null,
      status: 200,
      bytes: 155,
      responseBytes: 155,
      durationMs: 1,
      completed: true,
    };
    const line = combinedLogLine(event);
    expect(line.split('\n')).toHaveLength(2);
    expect(line.startsWith(`192.0.2.7 - anna ${apacheTime(event.time)} "GET /anna/config HTTP/1.1" 200 155 "-" "evil\\"\\n127.0.0.1 - admin"`)).toBe(true);
    expect(apacheTime(event.time)).toMatch(/^\[23\/Nov\/2026:08:05:09 [+-]\d{4}\]$/);
  });

  it.skipIf(!hasTool('htpasswd'))('writes one line per request to a file, with the user filled in', async () => {
    const log = join(tempDir(), 'access.log');
    const file = htpasswdFile([['anna', 'pw']]);
    const { url, server } = await startServer({ noAuth: false, htpasswdFile: file, log });
    const { id, data } = makeObject(300);
    await run(url, [
      { req: post('/anna/?create=true', '', { ...basic('anna', 'pw'), 'User-Agent': 'restic/0.14.0' }), want: [code(200)] },
      { req: post(`/anna/keys/${id}`, data, basic('anna', 'pw')), want: [code(200)] },
      { req: get(`/anna/keys/${id}`, basic('anna', 'pw')), want: [code(200)] },
      { req: get('/anna/keys/', basic('anna', 'nope')), want: [code(401)] },
    ]);
    await server.close();
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    const parsed = lines.map((line) => COMBINED.exec(line)?.slice(1));
    expect(parsed).toEqual([
      ['127.0.0.1', 'anna', 'POST /anna/?create=true HTTP/1.1', '200', '-', '-', 'restic/0.14.0'],
      ['127.0.0.1', 'anna', `POST /anna/keys/${id} HTTP/1.1`, '200', '-', '-', '-'],
      ['127.0.0.1', 'anna', `GET /anna/keys/${id} HTTP/1.1`, '200', '300', '-', '-'],
      ['127.0.0.1', '-', 'GET /anna/keys/ HTTP/1.1', '401', expect.stringMatching(/^\d+$/), '-', '-'],
    ]);
  });

  it('goes to standard output with --log -', async () => {
    const server = await startCli(['--path', tempDir(), '--no-auth', '--listen', '127.0.0.1:0', '--log', '-']);
    await run(server.url, [{ req: post('/?create=true'), want: [code(200)] }]);
    server.child.kill('SIGTERM');
    await server.exited;
    expect(server.output().stdout).toMatch(/^127\.0\.0\.1 - - \[.*\] "POST \/\?create=true HTTP\/1\.1" 200 - "-" "-"$/m);
  });
});

describe('event subscriptions', () => {
  it('never slow requests: a stuck subscriber only loses events, and they are counted', async () => {
    const { url, server } = await startServer();
    const stuck = server.subscribe(() => new Promise(() => undefined), 10);
    const received: RequestEvent[] = [];
    const healthy = server.subscribe((batch) => void received.push(...batch));
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    for (let i = 0; i < 200; i++) await run(url, [{ req: get('/keys/'), want: [code(200)] }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stuck.dropped).toBe(201 - 1 - 10);
    expect(received).toHaveLength(201);
    expect(healthy.dropped).toBe(0);
    server.unsubscribe(stuck);
    server.unsubscribe(healthy);
  });
});
