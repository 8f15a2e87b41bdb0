import { V1, V2, type Deps, type RestContext } from './context.js';
import type { Target } from './repo-path.js';

/**
 * `GET /{repo}/{type}/`. The v2 format (names and sizes) is used only when
 * the client asks with exactly the v2 type, and the `Content-Type` is set by
 * hand: Koa's JSON default adds `; charset=utf-8`, after which restic no
 * longer recognises v2 and fails.
 */
export async function listObjects(ctx: RestContext, deps: Deps): Promise<void> {
  const { repo, type } = ctx.state.target as Extract<Target, { kind: 'list' }>;
  const v2 = ctx.get('Accept') === V2;
  const objects = await deps.storage.listObjects(repo, type, v2);
  const json = Buffer.from(JSON.stringify(v2 ? objects : objects.map((object) => object.name)));
  ctx.status = 200;
  ctx.body = json;
  ctx.state.bytes = json.length;
  ctx.set('Content-Type', v2 ? V2 : V1);
}
