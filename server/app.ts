import { METHODS, type IncomingMessage } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { loadConfig, saveConfig, deleteConfig } from './config.js';
import { DiskMissingError, HttpError, httpErrors, toHttpError } from './errors.js';
import { SETUP_BODY_BYTES, SETUP_PREFIX, type Deps, type RestContext, type RestState } from './context.js';
import type { RequestEvent } from './events.js';
import { listObjects } from './list.js';
import { deleteObject, loadObject, saveObject } from './objects.js';
import { accessFor, mayReach, mayReadMetrics } from './policy.js';
import { parseTarget, type Target } from './repo-path.js';
import { createRepo } from './repo-create.js';

export interface AppHooks {
  onRequest(event: RequestEvent): void;
  onError(error: unknown, ctx: RestContext): void;
  /** True once the server is shutting down: answers then close their connection. */
  closing(): boolean;
}

/**
 * Routes on what the parsed target is, not on the raw path: the path was
 * already split and checked by `parseTarget`, and the router supplies the
 * method dispatch and the 405 + `Allow` answers.
 */
function buildRouter(deps: Deps): Router<RestState> {
  // Every method Node can parse counts as known, so a method the protocol does not use gets
  // 405 with Allow, as from rest-server, instead of the router's 501 (a 5xx is for server faults).
  const router = new Router<RestState>({ methods: METHODS });
  const use = (handler: (ctx: RestContext, deps: Deps) => Promise<void>) => (ctx: RestContext) => handler(ctx, deps);
  router.post('/repo', use(createRepo));
  router.get('/config', use(loadConfig)).post('/config', use(saveConfig)).delete('/config', use(deleteConfig));
  router.get('/list', use(listObjects));
  router.get('/object', use(loadObject)).post('/object', use(saveObject)).delete('/object', use(deleteObject));
  return router;
}

function describe(target: Target | undefined): Pick<RequestEvent, 'repo' | 'type' | 'id'> {
  if (!target) return { repo: null, type: null, id: null };
  const repo = target.repo.join('/');
  if (target.kind === 'config') return { repo, type: 'config', id: null };
  if (target.kind === 'list') return { repo, type: target.type, id: null };
  if (target.kind === 'object') return { repo, type: target.type, id: target.name };
  return { repo, type: null, id: null };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What follows SETUP_PREFIX in a request target, before any query; null for
 * any other target. The set-up route and the log's redaction both ask this
 * of the same raw target, so no spelling reaches the route unredacted
 * (Koa's `ctx.path` would accept `/.connect\code\sh#`, read as `/.connect/code/sh`).
 */
function setupPath(target: string): string | null {
  if (!target.startsWith(SETUP_PREFIX)) return null;
  const rest = target.slice(SETUP_PREFIX.length);
  const query = rest.indexOf('?');
  return query === -1 ? rest : rest.slice(0, query);
}

/** What a set-up script sends back: a few words, refused with 413 beyond SETUP_BODY_BYTES. */
async function readSetupBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > SETUP_BODY_BYTES) throw new HttpError(413, `a set-up request carries at most ${SETUP_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request target as the log shows it: a set-up code is a credential until it is used; a target that is not a path (refused) is not shown. */
function loggedTarget(target: string): string {
  if (!target.startsWith('/')) return '…';
  return setupPath(target) === null ? target : `${SETUP_PREFIX}…`;
}

/** The user name of the request, null without authentication; throws 401. */
async function authenticate(ctx: RestContext, deps: Deps): Promise<string | null> {
  if (deps.proxyAuthUsername !== undefined) {
    const user = ctx.get(deps.proxyAuthUsername);
    if (user) return user;
    throw new HttpError(401, `missing ${deps.proxyAuthUsername} header from the authenticating proxy`);
  }
  if (!deps.auth) return null;
  const { socket } = ctx.req;
  const result = await deps.auth.authenticate(ctx.get('Authorization') || undefined, socket.remoteAddress ?? '', () => socket.destroyed);
  if (result.ok) return result.user;
  // Slowing the answer (not the server) is what makes guessing expensive.
  if (result.delayMs > 0) await sleep(result.delayMs);
  ctx.set('WWW-Authenticate', 'Basic realm="restic"');
  throw new HttpError(401, result.reason);
}

export function createApp(deps: Deps, hooks: AppHooks): Koa<RestState> {
  const app = new Koa<RestState>();
  const router = buildRouter(deps);

  app.on('error', (error: unknown, ctx: RestContext) => hooks.onError(error, ctx));

  app.use(async (ctx, next) => {
    const started = performance.now();
    const rawUrl = loggedTarget(ctx.req.url ?? '/');
    // Read now: a request refused before its body was read has no socket left when its response closes.
    const remoteAddress = ctx.req.socket.remoteAddress ?? '';
    ctx.state.bytes = 0;
    ctx.res.once('close', () => {
      const query = rawUrl.indexOf('?');
      hooks.onRequest({
        time: new Date(),
        remoteAddress,
        user: ctx.state.access?.user ?? null,
        method: ctx.method,
        path: query === -1 ? rawUrl : rawUrl.slice(0, query),
        url: rawUrl,
        httpVersion: ctx.req.httpVersion,
        referer: ctx.get('Referer') || null,
        userAgent: ctx.get('User-Agent') || null,
        ...describe(ctx.state.target),
        status: ctx.res.statusCode,
        bytes: ctx.state.bytes,
        responseBytes: ctx.method === 'HEAD' ? 0 : (ctx.response.length ?? 0),
        durationMs: performance.now() - started,
        completed: ctx.res.writableFinished,
      });
    });
    await next();
    // Checked when the answer is ready: a request that began before close()
    // must not promise its client a connection that is about to be cut.
    if (hooks.closing() && !ctx.headerSent) ctx.set('Connection', 'close');
    // A file download: its body goes out now, with the headers as they stand.
    if (ctx.state.send) await ctx.state.send().catch((error: unknown) => hooks.onError(error, ctx));
  });

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      let answer = toHttpError(error);
      // "Not found" or a file-system error may be the disk having just been
      // pulled out (within the guard's cache second): if so, say that (503).
      if (!(answer instanceof DiskMissingError) && (answer.status === 404 || answer.status >= 500)) {
        const disk = await deps.guard.refresh();
        if (!disk.ok) answer = new DiskMissingError(disk.reason);
      }
      // Only the unexpected is reported: a missing disk or a full one already
      // has its own event and status, and would flood the log.
      if (answer.status === 500) hooks.onError(error, ctx);
      if (ctx.headerSent) return;
      ctx.status = answer.status;
      ctx.body = `${answer.message}\n`;
      ctx.type = 'text/plain';
      if (!ctx.req.complete) {
        // The rest of the body is read and dropped, so the client gets this
        // answer instead of a reset connection; then the connection closes.
        ctx.set('Connection', 'close');
        ctx.req.resume();
      }
    }
  });

  // Only a path is served (`GET /alice/config`): restic and every client of rest-server send one. A target
  // in absolute form (`GET https://host/.connect/<code>/sh`) is refused before any route could read it.
  app.use(async (ctx, next) => {
    if (!(ctx.req.url ?? '/').startsWith('/')) throw new HttpError(400, 'the request target must be a path beginning with /, not a full address');
    await next();
  });

  // The app's set-up scripts, before authentication: the code in the path is the credential.
  app.use(async (ctx, next) => {
    const path = setupPath(ctx.req.url ?? '/');
    if (!deps.setup || path === null) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, POST');
      return;
    }
    const body = ctx.method === 'POST' ? await readSetupBody(ctx.req) : '';
    const answer = await deps.setup({ path, method: ctx.method, body, address: ctx.req.socket.remoteAddress ?? '', host: ctx.get('Host'), userAgent: ctx.get('User-Agent') });
    ctx.status = answer.status;
    ctx.type = answer.type;
    ctx.body = answer.body;
    ctx.set('Cache-Control', 'no-store');
  });

  // rest-server's /metrics: behind authentication unless --prometheus-no-auth;
  // with private repositories, only for the user "metrics" (and maintenance users).
  app.use(async (ctx, next) => {
    if (!deps.metrics || ctx.path !== '/metrics') return next();
    // Authentication first: even a 405 would tell a stranger that metrics are on.
    if (!deps.metrics.noAuth) {
      const access = accessFor(await authenticate(ctx, deps), deps.policy);
      ctx.state.access = access;
      if (!mayReadMetrics(access, deps.policy.privateRepos)) {
        throw httpErrors.forbidden('with private repositories, only the user "metrics" may read the metrics');
      }
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'HEAD, GET');
      return;
    }
    ctx.body = await deps.metrics.metrics.text();
    ctx.type = deps.metrics.metrics.registry.contentType;
  });

  // Authentication comes before routing: an unknown path without credentials is 401.
  app.use(async (ctx, next) => {
    if (hooks.closing()) throw new HttpError(503, 'the server is shutting down');
    ctx.state.access = accessFor(await authenticate(ctx, deps), deps.policy);
    await next();
  });

  app.use(async (ctx, next) => {
    const target = parseTarget(ctx.req.url ?? '/');
    ctx.state.target = target;
    if (!mayReach(target, ctx.state.access, deps.policy.privateRepos)) {
      throw httpErrors.forbidden('private repositories: this repository belongs to another user');
    }
    await deps.guard.check();
    // Koa's documented way of routing on a rewritten path (as koa-rewrite does).
    ctx.path = `/${target.kind}`;
    await next();
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
