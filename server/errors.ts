/** An error that already knows its HTTP answer: a status and a short text. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The data folder is not the disk the server was started on (USB disk unplugged). */
export class DiskMissingError extends HttpError {
  constructor(reason: string) {
    super(503, `the backup disk is not available: ${reason}`);
  }
}

const badRequest = (message: string) => new HttpError(400, message);
const forbidden = (message: string) => new HttpError(403, message);
const notFound = (message = 'not found') => new HttpError(404, message);
const rangeNotSatisfiable = () => new HttpError(416, 'requested range not satisfiable');

export const httpErrors = { badRequest, forbidden, notFound, rangeNotSatisfiable };

/** Error codes of the file system that mean "no space left" for the caller. */
const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * The one place where failures become HTTP statuses. Anything not recognised
 * is a 500 with a short, secret-free text; the caller logs the details.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && FULL.has(code)) return new HttpError(507, 'insufficient storage: the backup disk is full');
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return notFound();
    case 'EEXIST':
      return forbidden('file already exists');
    case 'EROFS':
      return new HttpError(500, 'the backup disk is read-only');
    case 'EACCES':
    case 'EPERM':
      return new HttpError(500, 'the server may not access its data folder');
    case 'EIO':
      return new HttpError(500, 'input/output error on the backup disk');
    default:
      return new HttpError(500, 'internal server error');
  }
}
