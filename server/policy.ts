import type { Target } from './repo-path.js';
import type { UserPolicies } from './user-policy.js';

/** What the authenticated user (null: no authentication) may do on this server. */
export interface Access {
  user: string | null;
  appendOnly: boolean;
  maintenance: boolean;
}

export interface ServerPolicy {
  appendOnly: boolean;
  privateRepos: boolean;
  users: UserPolicies;
}

/** A maintenance user is never append-only; others follow their own policy, then the server's. */
export function accessFor(user: string | null, policy: ServerPolicy): Access {
  const own = user === null ? undefined : policy.users.get(user);
  const maintenance = own?.maintenance ?? false;
  return { user, maintenance, appendOnly: !maintenance && (own?.appendOnly ?? policy.appendOnly) };
}

/**
 * Private repositories: the first folder must be the user's own name
 * (case-sensitive). rest-server answers 401 here; 403 is the truth (the
 * credentials are fine, the repository is not theirs) and restic stops
 * retrying on it.
 */
export function mayReach(target: Target, access: Access, privateRepos: boolean): boolean {
  if (!privateRepos || access.user === null || access.maintenance) return true;
  return target.repo[0] === access.user;
}

/** rest-server's rule for /metrics: with private repositories, only the user "metrics" (we add maintenance users). */
export function mayReadMetrics(access: Access, privateRepos: boolean): boolean {
  return !privateRepos || access.user === null || access.user === 'metrics' || access.maintenance;
}

/**
 * Append-only mode allows creating and reading everything, and deleting only
 * locks, so that `restic unlock` and the end of every backup still work.
 */
export function mayDelete(target: Target, appendOnly: boolean): boolean {
  return !appendOnly || (target.kind === 'object' && target.type === 'locks');
}
