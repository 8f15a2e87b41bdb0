import { httpErrors } from './errors.js';
import { declaredLength, ok, type Deps, type RestContext } from './context.js';
import { mayDelete } from './policy.js';
import { underQuota } from './quota.js';
import { sendFile } from './send-file.js';

/** `HEAD|GET /{repo}/config`. */
export async function loadConfig(ctx: RestContext, deps: Deps): Promise<void> {
  await sendFile(ctx, deps.storage, ctx.state.target.repo, deps.storage.configPath(ctx.state.target.repo));
}

/** `POST /{repo}/config`: written once, atomically; never overwritten. */
export async function saveConfig(ctx: RestContext, deps: Deps): Promise<void> {
  const { storage } = deps;
  const { repo } = ctx.state.target;
  const path = storage.configPath(repo);
  // Checked first, or a config behind a link would be told to exist (saved once per repository: the cost does not matter).
  await storage.checkFolders(repo, path);
  if ((await storage.existingSize(path)) !== undefined) throw httpErrors.forbidden('config already exists');
  const sizes = { declared: declaredLength(ctx), existing: 0 };
  const saved = await underQuota(deps.quota, repo, sizes, (take) => storage.saveConfig(repo, ctx.req, take));
  ctx.state.bytes = saved.bytes;
  ok(ctx);
}

/** `DELETE /{repo}/config`. */
export async function deleteConfig(ctx: RestContext, deps: Deps): Promise<void> {
  if (!mayDelete(ctx.state.target, ctx.state.access.appendOnly)) throw httpErrors.forbidden('append-only mode: deleting is not allowed');
  const freed = await deps.storage.remove(ctx.state.target.repo, deps.storage.configPath(ctx.state.target.repo));
  deps.quota?.free(ctx.state.target.repo, freed);
  ctx.state.bytes = freed;
  ok(ctx);
}
