import type { ParameterizedContext } from 'koa';
import type { Authenticator } from './auth.js';
import type { DiskGuard } from './disk-guard.js';
import type { Metrics } from './metrics.js';
import type { Access, ServerPolicy } from './policy.js';
import type { Quota } from './quota.js';
import type { Target } from './repo-path.js';
import type { Storage } from './storage.js';

/** What the handlers share: who asks, the parsed request target, the bytes moved. */
export interface RestState {
  access: Access;
  target: Target;
  bytes: number;
  /** A body sent by the handler itself (a file download), started after every middleware is done. */
  send?: () => Promise<void>;
}

export type RestContext = ParameterizedContext<RestState>;

/**
 * The app's "Connect this computer" set-up scripts are served under this
 * path, which no repository can have (their names never start with a dot).
 */
export const SETUP_PREFIX = '/.connect/';
/** What a set-up script may send back in one request: a password, a few words. */
export const SETUP_BODY_BYTES = 4096;

/** A set-up request: what follows the prefix, and who asks. */
export interface SetupRequest {
  path: string;
  /** `GET` fetches a script; `POST` hands the app what a script sends back (`body`, at most SETUP_BODY_BYTES). */
  method: 'GET' | 'POST';
  body: string;
  address: string;
  /** The Host header: the name or address the computer reached the server at. */
  host: string;
  userAgent: string;
}

/** What the app answers a set-up request with. */
export interface SetupAnswer {
  status: number;
  type: string;
  body: string;
}

export type SetupHandler = (request: SetupRequest) => Promise<SetupAnswer>;

/** Everything a handler may use; the server builds it once. */
export interface Deps {
  storage: Storage;
  guard: DiskGuard;
  policy: ServerPolicy;
  verifyUpload: boolean;
  /** Absent when no size limit is set. */
  quota?: Quota;
  /** Present with --prometheus. */
  metrics?: { metrics: Metrics; noAuth: boolean };
  /** Absent with --no-auth. */
  auth?: Authenticator;
  /** Trust this header for the user name (behind an authenticating proxy) instead of Basic auth. */
  proxyAuthUsername?: string;
  /** Answers set-up requests (under SETUP_PREFIX); absent outside the app. */
  setup?: SetupHandler;
}

export const V1 = 'application/vnd.x.restic.rest.v1';
export const V2 = 'application/vnd.x.restic.rest.v2';

/** The body length the client announced (0 when chunked or absent). */
export function declaredLength(ctx: RestContext): number {
  const length = Number(ctx.get('Content-Length'));
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}

/** An empty 200: restic's save accepts exactly 200, not 201 or 204. */
export function ok(ctx: RestContext): void {
  ctx.status = 200;
  ctx.body = '';
}
