import { httpErrors } from './errors.js';

export const OBJECT_TYPES = ['data', 'keys', 'locks', 'snapshots', 'index'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** At most this many folders name a repository: `/alice/` or `/alice/laptop/`. */
export const MAX_REPO_DEPTH = 2;

/** What a request path addresses, after the raw path was split and checked. */
export type Target =
  | { kind: 'repo'; repo: string[] }
  | { kind: 'config'; repo: string[] }
  | { kind: 'list'; repo: string[]; type: ObjectType }
  | { kind: 'object'; repo: string[]; type: ObjectType; name: string };

const ID = /^[0-9a-f]{64}$/;
export const isObjectId = (name: string): boolean => ID.test(name);

export const isObjectType = (name: string): name is ObjectType =>
  (OBJECT_TYPES as readonly string[]).includes(name);

// Windows refuses these names whatever the extension; a repository created on
// Linux must still open when the USB disk moves to a Windows computer.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw httpErrors.badRequest('invalid percent-encoding in path');
  }
}

/**
 * Repository folder names: no traversal, no separators, no hidden names (the
 * server's own marker and temp files start with a dot), nothing a common file
 * system refuses.
 */
function checkFolderName(name: string): void {
  const bad =
    name === '' ||
    name.startsWith('.') ||
    /[/\\:\u0000-\u001f\u007f]/.test(name) ||
    /[ .]$/.test(name) ||
    Buffer.byteLength(name) > 255 ||
    WINDOWS_RESERVED.test(name);
  if (bad) throw httpErrors.badRequest(`invalid repository name: ${JSON.stringify(name.slice(0, 64))}`);
}

/**
 * Splits the raw request path (never a normalised URL: `new URL()` resolves
 * `..`) into a repository and what is addressed inside it. Splitting stops at
 * the first segment that is an object type or `config`.
 */
export function parseTarget(rawUrl: string): Target {
  const query = rawUrl.indexOf('?');
  const rawPath = query === -1 ? rawUrl : rawUrl.slice(0, query);
  if (!rawPath.startsWith('/')) throw httpErrors.badRequest('request path must start with /');
  const segments = rawPath.slice(1).split('/').map(decodeSegment);

  const repo: string[] = [];
  let i = 0;
  for (; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment === '' || segment === 'config' || isObjectType(segment)) break;
    if (repo.length === MAX_REPO_DEPTH) throw httpErrors.notFound();
    checkFolderName(segment);
    repo.push(segment);
  }
  const [first, second, ...more] = segments.slice(i);
  if (more.length > 0) throw httpErrors.notFound();
  if (first === undefined || (first === '' && second === undefined)) return { kind: 'repo', repo };
  if (first === 'config' && second === undefined) return { kind: 'config', repo };
  if (first !== undefined && isObjectType(first)) {
    if (second === undefined || second === '') return { kind: 'list', repo, type: first };
    return { kind: 'object', repo, type: first, name: second };
  }
  throw httpErrors.notFound();
}
