import type { ParameterizedContext } from 'koa';
import type { DiskGuard } from './disk-guard.js';
import type { Target } from './repo-path.js';
import type { Storage } from './storage.js';

/** What the handlers share: the parsed request target and the bytes moved. */
export interface RestState {
  target: Target;
  bytes: number;
}

export type RestContext = ParameterizedContext<RestState>;

/** Everything a handler may use; the server builds it once. */
export interface Deps {
  storage: Storage;
  guard: DiskGuard;
  appendOnly: boolean;
  verifyUpload: boolean;
}

export const V1 = 'application/vnd.x.restic.rest.v1';
export const V2 = 'application/vnd.x.restic.rest.v2';

/** An empty 200: restic's save accepts exactly 200, not 201 or 204. */
export function ok(ctx: RestContext): void {
  ctx.status = 200;
  ctx.body = '';
}
