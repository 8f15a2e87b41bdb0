import { hashBody, hashFile } from './atomic-write.js';
import { httpErrors } from './errors.js';
import { declaredLength, ok, type Deps, type RestContext } from './context.js';
import { mayDelete } from './policy.js';
import { underQuota } from './quota.js';
import { isObjectId, type Target } from './repo-path.js';
import { sendFile } from './send-file.js';

type ObjectTarget = Extract<Target, { kind: 'object' }>;

/** Names that cannot be an object do not exist (404); storing one is a bad request (400). */
function objectTarget(ctx: RestContext, whenInvalid: 'missing' | 'refused'): ObjectTarget {
  const target = ctx.state.target as ObjectTarget;
  if (isObjectId(target.name)) return target;
  if (whenInvalid === 'missing') throw httpErrors.notFound();
  throw httpErrors.badRequest('invalid object name: expected 64 lowercase hexadecimal digits');
}

/** `HEAD|GET /{repo}/{type}/{id}`. */
export async function loadObject(ctx: RestContext, deps: Deps): Promise<void> {
  const { repo, type, name } = objectTarget(ctx, 'missing');
  await sendFile(ctx, deps.storage, repo, deps.storage.objectPath(repo, type, name));
}

/**
 * `POST /{repo}/{type}/{id}`. An object that already exists is answered 200
 * when the body verifies against its id: restic retries a save whose answer
 * was lost, and rest-server's 403 turns that retry into a failed backup
 * (rest-server#196). In append-only mode the existing file is kept untouched.
 */
export async function saveObject(ctx: RestContext, deps: Deps): Promise<void> {
  const { storage, verifyUpload } = deps;
  const { repo, type, name } = objectTarget(ctx, 'refused');
  const path = storage.objectPath(repo, type, name);
  const { appendOnly } = ctx.state.access;
  // One look at the target serves both the append-only rule and the quota.
  const existing = appendOnly || deps.quota ? await storage.existingSize(path) : undefined;
  if (appendOnly && existing !== undefined) {
    // Nothing is written here, so nothing else checks that the object found is inside the data folder.
    await storage.checkFolders(repo, path);
    const { bytes, sha256 } = await hashBody(ctx.req);
    ctx.state.bytes = bytes;
    const same = sha256 === name || (!verifyUpload && sha256 === (await hashFile(path)));
    if (same) return ok(ctx);
    if (verifyUpload) throw httpErrors.badRequest(`body does not match its name ${name} (SHA-256 differs)`);
    throw httpErrors.forbidden('append-only mode: an object with this name already exists');
  }
  const sizes = { declared: declaredLength(ctx), existing: existing ?? 0 };
  const saved = await underQuota(deps.quota, repo, sizes, (take) =>
    storage.saveObject(repo, type, name, ctx.req, verifyUpload, take),
  );
  ctx.state.bytes = saved.bytes;
  ok(ctx);
}

/** `DELETE /{repo}/{type}/{id}`. */
export async function deleteObject(ctx: RestContext, deps: Deps): Promise<void> {
  const target = objectTarget(ctx, 'missing');
  if (!mayDelete(target, ctx.state.access.appendOnly)) throw httpErrors.forbidden('append-only mode: deleting is not allowed');
  const freed = await deps.storage.remove(target.repo, deps.storage.objectPath(target.repo, target.type, target.name));
  deps.quota?.free(target.repo, freed);
  ctx.state.bytes = freed;
  ok(ctx);
}
