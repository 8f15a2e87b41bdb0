import type { Api, ApiError, MethodName } from '../../contract.js';
import { METHODS } from '../../contract.js';
import { UserError } from './errors.js';
import { describeIssues, INPUTS } from './schemas.js';

export type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiError };

const KNOWN = new Set<string>(METHODS);

export const isMethod = (name: string): name is MethodName => KNOWN.has(name);

/**
 * Calls one contract method for a bridge (IPC or HTTP): the name must be in
 * the contract and the input must pass its schema before the method runs.
 * Errors cross as `{ code, message }`; an unexpected one is reported to
 * `onBug` and crosses without its details.
 */
export async function dispatch(api: Api, method: string, input: unknown, onBug: (error: unknown) => void): Promise<Outcome> {
  if (!isMethod(method)) return { ok: false, error: { code: 'unknown-method', message: `There is no method ${JSON.stringify(method)}.` } };
  const parsed = INPUTS[method].safeParse(input);
  if (!parsed.success) return { ok: false, error: { code: 'invalid-input', message: describeIssues(parsed.error) } };
  try {
    const call = api[method] as (value: unknown) => Promise<unknown>;
    return { ok: true, result: await call.call(api, parsed.data) };
  } catch (error) {
    if (error instanceof UserError) return { ok: false, error: error.toApiError() };
    onBug(error);
    return { ok: false, error: { code: 'internal', message: 'Something went wrong inside the app; the details are in its log. Try again.' } };
  }
}
