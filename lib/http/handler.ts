import { randomUUID } from 'node:crypto';
import type { Actor, ActorType } from '../db/models/audit-log.js';
import { getConfig } from '../config.js';
import { AppError } from '../errors.js';
import { platformClientIp } from './client-address.js';
import { log } from '../log.js';
import { countRequestOutcome } from '../ops/request-metrics.js';
import { corsHeaders, isAllowedOrigin, preflightHeaders } from './cors.js';
import { errorCodeOf, errorResponse, toErrorResponse } from './response.js';

/**
 * The wrapper every api/ function uses. One call to `defineRoute` gives a file all its HTTP method
 * exports (Vercel's Web form): the methods it handles, 405 with Allow for the rest, OPTIONS for CORS
 * preflight on buyer routes. Around each handler: request id, CORS, one error shape, one log line.
 */

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export interface RequestContext {
  request: Request;
  url: URL;
  method: string;
  requestId: string;
  /** Client IP as the platform reports it (CLIENT_IP_HEADER, TRUSTED_PROXY_HOPS: lib/http/client-address.ts). */
  ip: string | undefined;
  userAgent: string | undefined;
  /** Allowed Origin of a cross-origin buyer call, when there is one. */
  origin: string | undefined;
  /** Extra headers any part of the handling wants on the final response (rate limits...). */
  responseHeaders: Headers;
}

/** Who acts in this request, as the audit log records it: the kind and id, plus the request's client details. */
export function actorFrom<T extends ActorType>(ctx: RequestContext, type: T, id?: string): Actor & { type: T } {
  return { type, ...(id === undefined ? {} : { id }), ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId };
}

export type Handler = (ctx: RequestContext) => Promise<Response>;

export interface RouteOptions {
  /** `buyer`: called cross-origin by the festival site (CORS from ALLOWED_ORIGINS). `none`: server-to-server only. */
  cors?: 'buyer' | 'none';
}

export type RouteExports = Record<Method | 'OPTIONS', (request: Request) => Promise<Response>>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

function requestIdFrom(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`;
}

/** The client address the platform reported (trusted header + proxy hops from config; lib/http/client-address.ts). */
export function clientIp(request: Request): string | undefined {
  return platformClientIp(request.headers, getConfig().abuse);
}

/** Adds tokens to Vary without dropping the ones already there. */
function addVary(headers: Headers, value: string): void {
  const tokens = new Map<string, string>();
  for (const token of `${headers.get('vary') ?? ''},${value}`.split(',')) {
    const t = token.trim();
    if (t) tokens.set(t.toLowerCase(), t);
  }
  headers.set('vary', [...tokens.values()].join(', '));
}

function setFinalHeaders(headers: Headers, ctx: RequestContext, extra: Record<string, string>): void {
  ctx.responseHeaders.forEach((value, key) => {
    headers.set(key, value);
  });
  for (const [key, value] of Object.entries(extra)) {
    if (key === 'vary') addVary(headers, value);
    else headers.set(key, value);
  }
  headers.set('x-request-id', ctx.requestId);
  if (!headers.has('cache-control')) headers.set('cache-control', 'no-store');
  headers.set('x-content-type-options', 'nosniff');
}

/**
 * The headers every answer carries, set on the handler's own Response: its body is not wrapped again
 * (a second Response around the body stream cost a stream pipe per request). A Response whose headers
 * are immutable (Response.redirect / Response.error) is copied into a new one instead.
 */
function finish(response: Response, ctx: RequestContext, extra: Record<string, string> = {}): Response {
  try {
    setFinalHeaders(response.headers, ctx, extra);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const headers = new Headers(response.headers);
    setFinalHeaders(headers, ctx, extra);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

export function defineRoute(handlers: Partial<Record<Method, Handler>>, options: RouteOptions = {}): RouteExports {
  const allowed = METHODS.filter((method) => handlers[method]);
  const allowHeader = [...allowed, ...(options.cors === 'buyer' ? ['OPTIONS'] : [])].join(', ');

  const wrap =
    (method: Method | 'OPTIONS') =>
    async (request: Request): Promise<Response> => {
      const started = performance.now();
      const url = new URL(request.url);
      const ctx: RequestContext = {
        request,
        url,
        method,
        requestId: requestIdFrom(request),
        ip: clientIp(request),
        userAgent: request.headers.get('user-agent')?.slice(0, 512) ?? undefined,
        origin: undefined,
        responseHeaders: new Headers(),
      };
      let response: Response;
      // A buyer answer depends on Origin even when the request has none (a shared cache must not
      // hand a no-CORS answer to a cross-origin caller, or the reverse): always Vary: Origin.
      let cors: Record<string, string> = options.cors === 'buyer' ? { vary: 'Origin' } : {};
      try {
        const origin = request.headers.get('origin');
        if (options.cors === 'buyer' && origin !== null) {
          if (!isAllowedOrigin(origin)) {
            throw new AppError('ORIGIN_NOT_ALLOWED', 'This origin may not call the API');
          }
          ctx.origin = origin;
          cors = corsHeaders(origin);
        }
        const handler = method === 'OPTIONS' ? undefined : handlers[method];
        if (method === 'OPTIONS' && options.cors === 'buyer') {
          response =
            ctx.origin === undefined
              ? new Response(null, { status: 204, headers: { allow: allowHeader } })
              : new Response(null, { status: 204, headers: { ...preflightHeaders(ctx.origin, allowed), allow: allowHeader } });
        } else if (!handler) {
          response = errorResponse('METHOD_NOT_ALLOWED', `Method ${method} is not allowed here`, ctx.requestId, {
            headers: { allow: allowHeader },
          });
        } else {
          response = await handler(ctx);
        }
      } catch (error) {
        response = toErrorResponse(error, ctx.requestId);
      }
      const final = finish(response, ctx, cors);
      const code = final.status < 400 ? 'ok' : (errorCodeOf(response) ?? (`HTTP_${final.status}` as const));
      log.info('request', {
        requestId: ctx.requestId,
        method,
        path: url.pathname,
        status: final.status,
        code,
        durationMs: Math.round(performance.now() - started),
      });
      // Counted in memory (checkout and webhook routes); written later, never on this request's path.
      countRequestOutcome(method, url.pathname, code);
      return final;
    };

  return {
    GET: wrap('GET'),
    POST: wrap('POST'),
    PUT: wrap('PUT'),
    PATCH: wrap('PATCH'),
    DELETE: wrap('DELETE'),
    OPTIONS: wrap('OPTIONS'),
  };
}
