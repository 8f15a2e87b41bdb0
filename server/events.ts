import type { DiskState } from './disk-guard.js';

/** One finished (or aborted) request, as the app's live log shows it. */
export interface RequestEvent {
  time: Date;
  remoteAddress: string;
  user: string | null;
  method: string;
  /** The raw request path, without the query. */
  path: string;
  /** The raw request target, with the query. */
  url: string;
  httpVersion: string;
  referer: string | null;
  userAgent: string | null;
  /** Repository folder relative to the data folder, `''` for the root repository; null when the path was invalid. */
  repo: string | null;
  type: string | null;
  id: string | null;
  status: number;
  /** Body bytes received (uploads) or sent (downloads). */
  bytes: number;
  /** Bytes of the answer's body. */
  responseBytes: number;
  durationMs: number;
  /** False when the client went away before the answer was complete. */
  completed: boolean;
}

export interface ServerEvents {
  request: [RequestEvent];
  disk: [DiskState];
  warning: [string];
  /** The TLS certificate was replaced while serving (the file's path). */
  certificate: [string];
}
