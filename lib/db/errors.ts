/**
 * Postgres errors mapped in one place. Everything that talks to the database lets driver errors
 * through `toDbError`, so callers branch on `DbError.kind` and the constraint name, never on
 * SQLSTATE strings or message text.
 */
export type DbErrorKind =
  | 'CONNECTION_ERROR'
  | 'DUPLICATE_ENTRY'
  | 'FOREIGN_KEY_VIOLATION'
  | 'NOT_NULL_VIOLATION'
  | 'CHECK_VIOLATION'
  | 'SERIALIZATION_FAILURE'
  | 'DEADLOCK'
  | 'STATEMENT_TIMEOUT'
  | 'LOCK_NOT_AVAILABLE'
  | 'RAISED'
  | 'QUERY_ERROR';

const SQLSTATE_KIND: Record<string, DbErrorKind> = {
  '23505': 'DUPLICATE_ENTRY',
  '23503': 'FOREIGN_KEY_VIOLATION',
  '23502': 'NOT_NULL_VIOLATION',
  '23514': 'CHECK_VIOLATION',
  '40001': 'SERIALIZATION_FAILURE',
  '40P01': 'DEADLOCK',
  '57014': 'STATEMENT_TIMEOUT',
  '55P03': 'LOCK_NOT_AVAILABLE',
  P0001: 'RAISED',
  // Connection-class and shutdown errors: the server is gone or refusing us.
  '08000': 'CONNECTION_ERROR',
  '08001': 'CONNECTION_ERROR',
  '08003': 'CONNECTION_ERROR',
  '08004': 'CONNECTION_ERROR',
  '08006': 'CONNECTION_ERROR',
  '53300': 'CONNECTION_ERROR',
  '57P01': 'CONNECTION_ERROR',
  '57P02': 'CONNECTION_ERROR',
  '57P03': 'CONNECTION_ERROR',
  '3D000': 'CONNECTION_ERROR',
  '28000': 'CONNECTION_ERROR',
  '28P01': 'CONNECTION_ERROR',
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN']);

export class DbError extends Error {
  override name = 'DbError';
  readonly kind: DbErrorKind;
  /** The SQLSTATE when the server sent one. */
  readonly sqlState: string | undefined;
  /** The constraint that refused the write, when there is one. */
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;

  constructor(
    kind: DbErrorKind,
    message: string,
    extra: { sqlState?: string; constraint?: string; table?: string; column?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.kind = kind;
    this.sqlState = extra.sqlState;
    this.constraint = extra.constraint;
    this.table = extra.table;
    this.column = extra.column;
  }

  /** Serialization failures and deadlocks are worth retrying the whole transaction for. */
  get retryable(): boolean {
    return this.kind === 'SERIALIZATION_FAILURE' || this.kind === 'DEADLOCK';
  }
}

interface DriverErrorShape {
  code?: unknown;
  /** A WebSocket `ErrorEvent` (the @vercel/postgres / Neon driver) carries the socket's error here. */
  error?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
  message?: unknown;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'connection timeout',
  'Connection refused',
  'Cannot use a pool after calling end',
  // node-postgres' client-side query_timeout: the server did not answer in time (frozen or gone).
  'Query read timeout',
];

export function toDbError(error: unknown): DbError {
  if (error instanceof DbError) return error;
  const shape: DriverErrorShape = typeof error === 'object' && error !== null ? (error as DriverErrorShape) : {};
  const code = str(shape.code);
  const message = str(shape.message) ?? String(error);
  const extra = {
    sqlState: code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined,
    constraint: str(shape.constraint),
    table: str(shape.table),
    column: str(shape.column),
    cause: error,
  };
  if (code && SQLSTATE_KIND[code]) return new DbError(SQLSTATE_KIND[code], message, extra);
  if (code && NETWORK_CODES.has(code)) return new DbError('CONNECTION_ERROR', message, extra);
  if (code?.startsWith('08')) return new DbError('CONNECTION_ERROR', message, extra);
  if (CONNECTION_MESSAGES.some((fragment) => message.includes(fragment))) {
    return new DbError('CONNECTION_ERROR', message, extra);
  }
  if (error instanceof AggregateError && error.errors.some((inner) => toDbError(inner).kind === 'CONNECTION_ERROR')) {
    return new DbError('CONNECTION_ERROR', message, extra);
  }
  // The Neon driver rejects with the WebSocket's ErrorEvent (no code of its own): the socket error is inside.
  if (typeof shape.error === 'object' && shape.error !== null && shape.error !== error) {
    if (toDbError(shape.error).kind === 'CONNECTION_ERROR') return new DbError('CONNECTION_ERROR', message, extra);
  }
  return new DbError('QUERY_ERROR', message, extra);
}

export function isDbError(error: unknown, kind?: DbErrorKind): error is DbError {
  return error instanceof DbError && (kind === undefined || error.kind === kind);
}
