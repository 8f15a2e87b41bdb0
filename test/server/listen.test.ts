import { describe, expect, it } from 'vitest';
import { code, del, makeObject, post, run } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('listening and live policy', () => {
  it('serves the same data on several addresses and stops one without the others', async () => {
    const { server, url } = await startServer();
    const second = await server.listen({ host: '127.0.0.2', port: 0 });
    expect(server.addresses()).toEqual([new URL(url).host, second]);
    const { id, data } = makeObject();
    await run(url, [{ req: post('/?create=true'), want: [code(200)] }, { req: post(`/data/${id}`, data), want: [code(200)] }]);
    await run(`http://${second}`, [{ req: { method: 'GET', path: `/data/${id}` }, want: [code(200)] }]);
    await server.stopListening(second);
    expect(server.addresses()).toEqual([new URL(url).host]);
    await expect(fetch(`http://${second}/config`)).rejects.toThrow();
    await run(url, [{ req: { method: 'HEAD', path: `/data/${id}` }, want: [code(200)] }]);
  });

  it('applies a new append-only setting to the next request without a restart', async () => {
    const { server, url } = await startServer();
    const first = makeObject();
    const second = makeObject();
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/data/${first.id}`, first.data), want: [code(200)] },
      { req: post(`/data/${second.id}`, second.data), want: [code(200)] },
    ]);
    server.updatePolicy({ appendOnly: true, users: new Map() });
    await run(url, [{ req: del(`/data/${first.id}`), want: [code(403)] }]);
    server.updatePolicy({ appendOnly: false, users: new Map() });
    await run(url, [{ req: del(`/data/${second.id}`), want: [code(200)] }]);
  });
});
