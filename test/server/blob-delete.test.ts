import { describe, it } from 'vitest';
import { code, del, get, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('DELETE /{repo}/{type}/{id}', () => {
  it('removes objects; deleting is idempotent, as in rest-server (a retried delete succeeds)', async () => {
    const { url } = await startServer();
    const { id, data } = makeObject();
    const never = makeObject().id;
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: post(`/r/data/${id}`, data), want: [code(200)] },
      { req: del(`/r/data/${id}`), want: [code(200)] },
      { req: get(`/r/data/${id}`), want: [code(404)] },
      { req: del(`/r/data/${id}`), want: [code(200)] },
      { req: del(`/r/locks/${never}`), want: [code(200)] },
      { req: del(`/r/snapshots/${never}`), want: [code(200)] },
      { req: del('/r/config'), want: [code(200)] },
      { req: del('/r/config'), want: [code(200)] },
    ]);
  });

  it('still answers 404 for an invalid name or a repository that does not exist', async () => {
    const { url } = await startServer();
    const { id } = makeObject();
    await run(url, [
      { req: post('/r/?create=true'), want: [code(200)] },
      { req: del('/r/data/not-an-id'), want: [code(404)] },
      { req: del(`/r/data/${id.toUpperCase()}`), want: [code(404)] },
      { req: del(`/nowhere/data/${id}`), want: [code(404)] },
      { req: del(`/nowhere/locks/${id}`), want: [code(404)] },
      { req: del('/nowhere/config'), want: [code(404)] },
    ]);
  });

  it('in append-only mode refuses every delete but of locks', async () => {
    const { url } = await startServer({ appendOnly: true });
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }]);
    for (const type of ['data', 'keys', 'snapshots', 'index']) {
      const { id, data } = makeObject();
      await run(url, [
        { req: post(`/${type}/${id}`, data), want: [code(200)] },
        { req: del(`/${type}/${id}`), want: [code(403)] },
        { req: get(`/${type}/${id}`), want: [code(200)] },
      ]);
    }
    const missing = makeObject();
    await run(url, [
      { req: del(`/snapshots/${missing.id}`), want: [code(403)] },
      { req: del('/config'), want: [code(403)] },
      { req: del(`/locks/${missing.id}`), want: [code(200)] },
    ]);
    const lock = makeObject();
    await run(url, [
      { req: post(`/locks/${lock.id}`, lock.data), want: [code(200)] },
      { req: del(`/locks/${lock.id}`), want: [code(200)] },
      { req: get(`/locks/${lock.id}`), want: [code(404)] },
    ]);
  });
});
