/** Every error code the domain can raise. The server maps each to one HTTP status. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'INVALID_CREDENTIALS',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'INTERNAL',
  'SERVICE_UNAVAILABLE',
  'CREDENTIAL_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The one error type of the domain: a code, a message safe to show, optional field details. */
export class KeysmithError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[] | undefined;
  /** Seconds after which a RATE_LIMITED request may be retried. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'KeysmithError';
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A single-field validation failure, in the contract's shape. */
export function validationError(path: string, message: string): KeysmithError {
  return new KeysmithError('VALIDATION_FAILED', `${path}: ${message}`, {
    details: [{ path, message }],
  });
}

export function notFound(what: string): KeysmithError {
  return new KeysmithError('NOT_FOUND', `${what} not found`);
}

export function conflict(message: string): KeysmithError {
  return new KeysmithError('CONFLICT', message);
}

export function forbidden(message = 'You do not have permission to do this'): KeysmithError {
  return new KeysmithError('FORBIDDEN', message);
}
