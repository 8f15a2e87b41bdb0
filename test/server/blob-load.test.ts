import { describe, it } from 'vitest';
import { body, code, get, head, header, makeObject, post, run, type Step } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';

describe('GET and HEAD /{repo}/{type}/{id}', () => {
  it('stats with Content-Length and reads whole objects with a fixed length', async () => {
    const { url } = await startServer();
    const { id, data } = makeObject(5000);
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: head(`/data/${id}`), want: [code(404)] },
      { req: get(`/data/${id}`), want: [code(404)] },
      { req: post(`/data/${id}`, data), want: [code(200)] },
      { req: head(`/data/${id}`), want: [code(200), header('content-length', '5000')] },
      {
        req: get(`/data/${id}`),
        want: [code(200), body(data), header('content-length', '5000'), header('transfer-encoding', undefined)],
      },
    ]);
  });

  it('honours Range: offsets, offset-end, clipping, suffixes, and 416 past the end', async () => {
    const { url } = await startServer();
    const { id, data } = makeObject(1000);
    const path = `/snapshots/${id}`;
    const range = (spec: string) => get(path, { Range: `bytes=${spec}` });
    const steps: Step[] = [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(path, data), want: [code(200)] },
      { req: range('100-'), want: [code(206), body(data.subarray(100)), header('content-range', 'bytes 100-999/1000')] },
      { req: range('10-19'), want: [code(206), body(data.subarray(10, 20)), header('content-length', '10')] },
      { req: range('990-5000'), want: [code(206), body(data.subarray(990)), header('content-range', 'bytes 990-999/1000')] },
      { req: range('-10'), want: [code(206), body(data.subarray(990))] },
      { req: range('-5000'), want: [code(206), body(data)] },
      { req: range('0-0'), want: [code(206), body(data.subarray(0, 1))] },
      { req: range('1000-'), want: [code(416), header('content-range', 'bytes */1000')] },
      { req: range('20-10'), want: [code(416)] },
      { req: range('-0'), want: [code(416)] },
      { req: range('abc'), want: [code(416)] },
      { req: range('0-1,5-6'), want: [code(200), body(data)] },
      { req: get(path, { Range: 'items=0-1' }), want: [code(200), body(data)] },
    ];
    await run(url, steps);
  });

  it('serves an empty object', async () => {
    const { url } = await startServer();
    const { id, data } = makeObject(0);
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: post(`/keys/${id}`, data), want: [code(200)] },
      { req: head(`/keys/${id}`), want: [code(200), header('content-length', '0')] },
      { req: get(`/keys/${id}`), want: [code(200), body(''), header('content-length', '0')] },
    ]);
  });

  it('answers 404 for names that cannot be objects', async () => {
    const { url } = await startServer();
    await run(url, [
      { req: post('/?create=true'), want: [code(200)] },
      { req: get('/data/abc'), want: [code(404)] },
      { req: head(`/data/${'A'.repeat(64)}`), want: [code(404)] },
    ]);
  });
});
