import { AppError, type ErrorCode } from '../errors.js';
import { ConfigError } from '../config.js';
import { DbError } from '../db/errors.js';
import { log } from '../log.js';
import { ERROR_STATUS } from './error-status.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

export function json(data: unknown, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(data), { status: init.status ?? 200, headers });
}

/** A CSV download (a string or a stream) under this file name. */
export function csvAttachment(body: BodyInit, filename: string): Response {
  return new Response(body, {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${filename}"` },
  });
}

/** The error code each error answer carries in its body, kept beside it (the request metrics count by it). */
const errorCodes = new WeakMap<Response, ErrorCode>();

/** The `error.code` of an answer made by errorResponse (every error answer is), else undefined. */
export function errorCodeOf(response: Response): ErrorCode | undefined {
  return errorCodes.get(response);
}

export function errorResponse(
  code: ErrorCode,
  message: string,
  requestId: string,
  extra: {
    details?: Record<string, unknown>;
    headers?: Record<string, string>;
  } = {},
): Response {
  const body: ErrorBody = { error: { code, message, requestId, ...(extra.details ? { details: extra.details } : {}) } };
  const response = json(body, { status: ERROR_STATUS[code], headers: { 'cache-control': 'no-store', ...extra.headers } });
  errorCodes.set(response, code);
  return response;
}

/**
 * Every thrown thing becomes the one error shape here. AppErrors carry their own (client-safe)
 * message; everything else is logged with its stack and answered with a generic message.
 */
export function toErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof AppError) {
    return errorResponse(error.code, error.message, requestId, { details: error.details, headers: error.headers });
  }
  if (error instanceof DbError && error.kind === 'CONNECTION_ERROR') {
    log.error('database unavailable', { requestId, error });
    return errorResponse('DATABASE_UNAVAILABLE', 'The database is unavailable; try again shortly', requestId, {
      headers: { 'retry-after': '5' },
    });
  }
  if (error instanceof DbError && error.kind === 'STATEMENT_TIMEOUT') {
    log.error('statement timeout', { requestId, error });
    return errorResponse('SERVICE_UNAVAILABLE', 'The request took too long; try again shortly', requestId, {
      headers: { 'retry-after': '5' },
    });
  }
  const kind = error instanceof ConfigError ? 'configuration error' : 'unexpected error';
  log.error(kind, { requestId, error });
  return errorResponse('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged', requestId);
}
