import { httpErrors } from './errors.js';
import { ok, type Deps, type RestContext } from './context.js';

/** `POST /{repo}/?create=true`: makes the repository's folders, idempotently. */
export async function createRepo(ctx: RestContext, deps: Deps): Promise<void> {
  if (ctx.query.create !== 'true') throw httpErrors.badRequest('to create a repository, POST with ?create=true');
  // A fresh look at the disk: this is the one request that makes folders.
  await deps.guard.check({ fresh: true });
  await deps.storage.createRepo(ctx.state.target.repo);
  ok(ctx);
}
