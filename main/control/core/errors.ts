import type { ApiError } from '../../contract.js';

/** A failure the user can act on: it crosses to the GUI as `{ code, message }`. */
export class UserError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  toApiError(): ApiError {
    return { code: this.code, message: this.message };
  }
}
