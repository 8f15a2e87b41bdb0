import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { expect } from 'vitest';

export interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export const V2 = 'application/vnd.x.restic.rest.v2';

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One raw HTTP request: the path goes on the wire exactly as given (no URL
 * normalisation), so tests can send `..`, `%2f` and the like.
 */
export function send(base: string, req: Req): Promise<Res> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: hostname, port, method: req.method, path: req.path, headers: req.headers, agent },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body, text: body.toString('utf8') });
        });
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

export const get = (path: string, headers?: Record<string, string>): Req => ({ method: 'GET', path, headers });
export const head = (path: string, headers?: Record<string, string>): Req => ({ method: 'HEAD', path, headers });
export const post = (path: string, body: Buffer | string = '', headers?: Record<string, string>): Req => ({
  method: 'POST',
  path,
  body,
  headers,
});
export const del = (path: string): Req => ({ method: 'DELETE', path });

export type Want = (res: Res) => void;

export const code =
  (status: number): Want =>
  (res) =>
    expect(res.status, `status (body: ${res.text.slice(0, 200)})`).toBe(status);
export const body =
  (expected: Buffer | string): Want =>
  (res) =>
    expect(res.body.equals(Buffer.from(expected)), 'body').toBe(true);
export const header =
  (name: string, expected: string | undefined): Want =>
  (res) =>
    expect(res.headers[name.toLowerCase()], `header ${name}`).toBe(expected);
export const json =
  (expected: unknown): Want =>
  (res) =>
    expect(JSON.parse(res.text)).toEqual(expected);

export interface Step {
  req: Req;
  want: Want[];
}

/** Runs request/expectation steps in order, as rest-server's tests do. */
export async function run(base: string, steps: Step[]): Promise<Res[]> {
  const results: Res[] = [];
  for (const [index, step] of steps.entries()) {
    const res = await send(base, step.req);
    for (const want of step.want) {
      try {
        want(res);
      } catch (error) {
        (error as Error).message = `step ${index} ${step.req.method} ${step.req.path}: ${(error as Error).message}`;
        throw error;
      }
    }
    results.push(res);
  }
  return results;
}

/** A random object body and its SHA-256 id, as restic names its objects. */
export function makeObject(size = 1000): { id: string; data: Buffer } {
  const data = randomBytes(size);
  return { id: createHash('sha256').update(data).digest('hex'), data };
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
