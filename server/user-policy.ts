import { USERNAME } from './htpasswd.js';

/** What one user may do beyond the server-wide settings. */
export interface UserPolicy {
  /** Overrides the server's append-only setting for this user. */
  appendOnly?: boolean;
  /** May reach every repository (also with private repos) and delete (forget/prune) even where others are append-only. */
  maintenance?: boolean;
  /** Limit, in bytes, of the files under the folder of the user's name (`/<user>/...`). */
  quotaBytes?: number;
}

export type UserPolicies = ReadonlyMap<string, UserPolicy>;

const KEYS: Record<keyof UserPolicy, 'boolean' | 'number'> = { appendOnly: 'boolean', maintenance: 'boolean', quotaBytes: 'number' };

/**
 * Reads the `--policy` file:
 * `{"users": {"NAME": {"appendOnly": true, "maintenance": false, "quotaBytes": 500000000000}}}`.
 * Anything unknown or mistyped is an error naming where it is.
 */
export function parseUserPolicies(text: string, source: string): UserPolicies {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(data)) throw new Error(`${source}: expected an object with "users"`);
  for (const key of Object.keys(data)) if (key !== 'users') throw new Error(`${source}: unknown key "${key}" (only "users")`);
  const users = data.users ?? {};
  if (!isObject(users)) throw new Error(`${source}: "users" must be an object of user name -> policy`);
  const policies = new Map<string, UserPolicy>();
  for (const [user, policy] of Object.entries(users)) {
    if (!USERNAME.test(user)) throw new Error(`${source}: invalid user name ${JSON.stringify(user)}`);
    if (!isObject(policy)) throw new Error(`${source}: the policy of ${user} must be an object`);
    for (const [key, value] of Object.entries(policy)) {
      const type = KEYS[key as keyof UserPolicy];
      if (!type) throw new Error(`${source}: unknown key "${key}" for ${user} (known: ${Object.keys(KEYS).join(', ')})`);
      if (typeof value !== type) throw new Error(`${source}: "${key}" of ${user} must be a ${type}`);
      if (type === 'number' && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
        throw new Error(`${source}: "${key}" of ${user} must be a whole number of bytes, 0 or more`);
      }
    }
    policies.set(user, policy as UserPolicy);
  }
  return policies;
}
