import { describe, expect, it } from 'vitest';
import { code, get, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('request events', () => {
  it('describe each request: repository, type, id, status, bytes, duration', async () => {
    const { url, events } = await startServer();
    const { id, data } = makeObject(1234);
    await run(url, [
      { req: post('/alice/laptop/?create=true'), want: [code(200)] },
      { req: post(`/alice/laptop/data/${id}`, data), want: [code(200)] },
      { req: get(`/alice/laptop/data/${id}`, { Range: 'bytes=0-99' }), want: [code(206)] },
      { req: get('/alice/laptop/keys/'), want: [code(200)] },
      { req: get('/../etc/passwd'), want: [code(400)] },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.map(({ method, repo, type, id: eventId, status, bytes, completed }) => ({ method, repo, type, id: eventId, status, bytes, completed }))).toEqual([
      { method: 'POST', repo: 'alice/laptop', type: null, id: null, status: 200, bytes: 0, completed: true },
      { method: 'POST', repo: 'alice/laptop', type: 'data', id, status: 200, bytes: 1234, completed: true },
      { method: 'GET', repo: 'alice/laptop', type: 'data', id, status: 206, bytes: 100, completed: true },
      { method: 'GET', repo: 'alice/laptop', type: 'keys', id: null, status: 200, bytes: 2, completed: true },
      { method: 'GET', repo: null, type: null, id: null, status: 400, bytes: 0, completed: true },
    ]);
    for (const event of events) {
      expect(event.remoteAddress).toBe('127.0.0.1');
      expect(event.user).toBeNull();
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(events[4]?.path).toBe('/../etc/passwd');
  });
});
