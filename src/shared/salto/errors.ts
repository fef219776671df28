/**
 * Every failure of a SHIP call is a SaltoError: thrown by the client's operations, never a raw exception.
 *
 * `kind` is what the caller acts on: 'transient' means retry later with backoff (the server is busy,
 * restarting or unreachable), 'permanent' means retrying will not help and a manager must act.
 */

/** Where the failure happened. */
export type SaltoErrorCause =
  /** SALTO answered with a SHIP Exception (code and message are SALTO's). */
  | 'ship'
  /** The connection could not be made, broke, or a timeout passed. */
  | 'transport'
  /** The HTTP layer refused the request (401, 415, 501, 5xx...). */
  | 'http'
  /** The reply was not a SHIP answer we can trust: not XML, wrong shape, too large, bad framing. */
  | 'malformed'
  /** The request was refused by the client before sending (invalid input). */
  | 'input';

export type SaltoErrorKind = 'transient' | 'permanent';

/** SHIP error codes (salto-ship.md). */
export const ShipCode = {
  none: 0,
  databaseError: 1,
  generalError: 4,
  processAborted: 5,
  businessRuleViolation: 7,
  elementAlreadyExists: 10,
  elementNotFound: 11,
  invalidInputParameter: 12,
  licenceFeatureNotSupported: 13,
  licenceConstraintViolated: 14,
  userNotFound: 200,
  userBeingEdited: 201,
  invalidXml: 500,
  invalidOrUnexpectedXmlNodes: 501,
  unknownRequest: 502,
  invalidDataType: 503,
  zoneTypeCannotChange: 600,
  tooManyLowZones: 601,
} as const;

const TRANSIENT_SHIP_CODES: ReadonlySet<number> = new Set([1, 4, 5, 201]);

/** SHIP codes 1, 4, 5 and 201 are worth retrying; every other code is permanent. */
export function isTransientShipCode(code: number): boolean {
  return TRANSIENT_SHIP_CODES.has(code);
}

/** Server-side and throttling statuses are transient; 401, 415, 501 and other 4xx are permanent. */
export function isTransientHttpStatus(status: number): boolean {
  if (status === 501) return false; // the HTTP transport is switched off on the server
  return status >= 500 || status === 408 || status === 429;
}

export interface SaltoErrorInit {
  readonly cause: SaltoErrorCause;
  readonly kind: SaltoErrorKind;
  readonly message: string;
  /** The SHIP code, for cause 'ship' (and 'input' errors that mirror a SHIP rule). */
  readonly code?: number;
  readonly httpStatus?: number;
  /** The RequestName of the call that failed, when known. */
  readonly requestName?: string;
  /** The underlying exception, for logs. Never shown to users. */
  readonly underlying?: unknown;
}

export class SaltoError extends Error {
  override readonly name = 'SaltoError';
  /** Named `reason` rather than `cause` to keep Error#cause for the underlying exception. */
  readonly reason: SaltoErrorCause;
  readonly kind: SaltoErrorKind;
  readonly code: number | undefined;
  readonly httpStatus: number | undefined;
  readonly requestName: string | undefined;

  constructor(init: SaltoErrorInit) {
    super(init.message, init.underlying === undefined ? undefined : { cause: init.underlying });
    this.reason = init.cause;
    this.kind = init.kind;
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.requestName = init.requestName;
  }

  get transient(): boolean {
    return this.kind === 'transient';
  }

  /** A plain object for logs and JSON columns (no stack, no underlying exception). */
  toJSON(): Record<string, unknown> {
    return {
      reason: this.reason,
      kind: this.kind,
      code: this.code,
      httpStatus: this.httpStatus,
      requestName: this.requestName,
      message: this.message,
    };
  }

  static ship(code: number, message: string, requestName?: string): SaltoError {
    return new SaltoError({
      cause: 'ship',
      kind: isTransientShipCode(code) ? 'transient' : 'permanent',
      code,
      message: `SHIP error ${code}: ${message}`,
      requestName,
    });
  }

  static transport(message: string, underlying?: unknown, requestName?: string): SaltoError {
    return new SaltoError({ cause: 'transport', kind: 'transient', message, underlying, requestName });
  }

  static http(status: number, message: string, requestName?: string): SaltoError {
    return new SaltoError({
      cause: 'http',
      kind: isTransientHttpStatus(status) ? 'transient' : 'permanent',
      httpStatus: status,
      message,
      requestName,
    });
  }

  /**
   * A reply we cannot trust. Permanent: the same server answering the same request the same way will
   * not improve by retrying, and a manager should look at it.
   */
  static malformed(message: string, underlying?: unknown, requestName?: string): SaltoError {
    return new SaltoError({ cause: 'malformed', kind: 'permanent', message, underlying, requestName });
  }

  static input(message: string, code: number = ShipCode.invalidInputParameter, requestName?: string): SaltoError {
    return new SaltoError({ cause: 'input', kind: 'permanent', code, message, requestName });
  }
}

export function isSaltoError(value: unknown): value is SaltoError {
  return value instanceof SaltoError;
}
