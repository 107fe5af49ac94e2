import { z } from 'zod';
import { API_KEY_SCOPES } from '../db/models/api-keys.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { AUTH_FAILURE_LIMIT } from '../http/auth-throttle.js';
import { ERROR_STATUS } from '../http/error-status.js';
import { TEXT_RULE_DESCRIPTION } from '../http/text-input.js';
import { errorBodySchema } from './responses.js';
import { COMMON_ERRORS, type OperationSpec, ROUTES, type RouteSpec, type Security } from './routes.js';

/**
 * The OpenAPI 3.1 document, generated from the route table (./routes.ts): every schema in it is
 * `z.toJSONSchema` of the zod schema the route validates with or answers with; every error status
 * comes from ERROR_STATUS. Nothing here is a hand-written copy of a schema.
 */

type Json = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  402: 'Payment declined',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'Provider unavailable',
  503: 'Service unavailable',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    reused: 'inline',
  }) as Json;
  return rest;
}

const header = (description: string, schema: Json = { type: 'string' }) => ({ description, schema });

const RESPONSE_HEADERS = {
  'X-Request-Id': header('The request id (also in every error body and log line). Send your own as `x-request-id` to correlate.'),
  'RateLimit-Limit': header('Requests allowed in the current window (the tightest limit that applies).', { type: 'integer' }),
  'RateLimit-Remaining': header('Requests left in the current window.', { type: 'integer', minimum: 0 }),
  'RateLimit-Reset': header('Seconds until the window ends.', { type: 'integer', minimum: 1 }),
  'Retry-After': header('Seconds to wait before retrying (429, 503, 409 IDEMPOTENCY_IN_PROGRESS).', { type: 'integer' }),
  'Idempotent-Replayed': header('`true` when this is the stored answer of an earlier request with the same Idempotency-Key.', {
    type: 'string',
    enum: ['true'],
  }),
  'WWW-Authenticate': header('`Bearer realm="api"` on a refused API key.'),
  Allow: header('The methods this path answers (on 405).'),
} as const;

function headerRefs(names: (keyof typeof RESPONSE_HEADERS)[]): Json {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

function usesRateLimit(op: OperationSpec): boolean {
  return op.rateLimit !== undefined || op.security.kind === 'apiKey' || op.security.kind === 'buyerTokenOrApiKey';
}

function securityOf(security: Security): Json[] | undefined {
  switch (security.kind) {
    case 'public':
      return [];
    case 'buyerToken':
      return [{ buyerToken: [] }];
    case 'apiKey':
      return [{ apiKey: security.scopes }];
    case 'buyerTokenOrApiKey':
      return [{ buyerToken: [] }, { apiKey: security.scopes }];
    case 'cronSecret':
      return [{ cronSecret: [] }];
    case 'stripeSignature':
      return [{ stripeSignature: [] }];
    case 'paypalSignature':
      return [{ paypalSignature: [] }];
  }
}

/** The error codes an operation documents, by status (from the one code → status map). */
export function errorCodesByStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus.entries()].sort(([a], [b]) => a - b));
}

function errorResponse(status: number, codes: ErrorCode[], op: OperationSpec): Json {
  const headers: (keyof typeof RESPONSE_HEADERS)[] = ['X-Request-Id'];
  if (usesRateLimit(op)) headers.push('RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset');
  if (status === 429 || status === 503 || codes.includes('IDEMPOTENCY_IN_PROGRESS')) headers.push('Retry-After');
  if (status === 401 && op.security.kind !== 'cronSecret') headers.push('WWW-Authenticate');
  if (status === 405) headers.push('Allow');
  return {
    description: `${STATUS_TEXT[status] ?? 'Error'}: ${codes.map((c) => `\`${c}\``).join(', ')}`,
    headers: headerRefs(headers),
    content: {
      'application/json': {
        schema: {
          allOf: [{ $ref: '#/components/schemas/ErrorBody' }],
          properties: { error: { properties: { code: { enum: codes } } } },
        },
      },
    },
  };
}

function parametersOf(op: OperationSpec): Json[] {
  const parameters: Json[] = [];
  const addObject = (schema: z.ZodObject, where: 'query' | 'path' | 'header') => {
    const json = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property as Json & { description?: string };
      parameters.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  if (op.params) addObject(op.params, 'path');
  if (op.query) addObject(op.query, 'query');
  if (op.headers) addObject(op.headers, 'header');
  if (op.idempotencyKey) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: op.idempotencyKey === 'required',
      description:
        'Same key + same body → the first answer again (`Idempotent-Replayed: true`); same key + another body → 422 IDEMPOTENCY_KEY_REUSED; while the first still runs → 409 IDEMPOTENCY_IN_PROGRESS. Kept at least 24 hours; only 2xx answers are stored.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
    });
  }
  return parameters;
}

function curlOf(route: RouteSpec, op: OperationSpec): string {
  const lines = [`curl -s -X ${op.method.toUpperCase()} 'https://payments.example.org${route.path.replace('{id}', '<id>')}'`];
  if (op.security.kind === 'apiKey' || op.security.kind === 'buyerTokenOrApiKey')
    lines.push("-H 'Authorization: Bearer bf_live_…'");
  if (op.security.kind === 'buyerToken') lines.push("-H 'Authorization: Bearer <accessToken>'");
  if (op.security.kind === 'cronSecret') lines.push('-H "Authorization: Bearer $CRON_SECRET"');
  if (op.idempotencyKey) lines.push("-H 'Idempotency-Key: <a unique key per attempt>'");
  if (op.example !== undefined) {
    lines.push("-H 'content-type: application/json'", `-d '${JSON.stringify(op.example)}'`);
  }
  return lines.join(' \\\n  ');
}

function operationOf(route: RouteSpec, op: OperationSpec): Json {
  const okHeaders: (keyof typeof RESPONSE_HEADERS)[] = ['X-Request-Id'];
  if (usesRateLimit(op)) okHeaders.push('RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset');
  if (op.idempotencyKey) okHeaders.push('Idempotent-Replayed');
  const responses: Json = {};
  for (const [status, spec] of Object.entries(op.responses)) {
    const content: Json = {};
    if (spec.schema) content[spec.contentType ?? 'application/json'] = { schema: jsonSchema(spec.schema, 'output') };
    else if (route.path === '/api/openapi.json') content['application/json'] = { schema: { type: 'object' } };
    if (spec.alternative) content[spec.alternative.contentType] = { schema: jsonSchema(spec.alternative.schema, 'output') };
    responses[status] = { description: spec.description, headers: headerRefs(okHeaders), content };
  }
  const codes = [...op.errors, ...COMMON_ERRORS, ...(route.cors === 'buyer' ? (['ORIGIN_NOT_ALLOWED'] as ErrorCode[]) : [])];
  for (const [status, byStatus] of errorCodesByStatus(codes)) {
    const error = errorResponse(status, byStatus, op) as { description: string; headers: Json; content: Record<string, Json> };
    const existing = responses[String(status)] as
      | { description: string; headers: Json; content: Record<string, Json> }
      | undefined;
    const existingJson = existing?.content['application/json'];
    if (existing && existingJson) {
      // A documented body on an error status (the health report's 503): either that body or the error shape.
      existing.description = `${existing.description}; or ${error.description}`;
      existing.headers = { ...existing.headers, ...error.headers };
      existingJson.schema = { anyOf: [existingJson.schema, error.content['application/json']?.schema] };
    } else {
      responses[String(status)] = error;
    }
  }
  const description = [
    op.description,
    op.rateLimit ? `**Rate limit:** ${op.rateLimit}.` : undefined,
    op.security.kind === 'apiKey' || op.security.kind === 'buyerTokenOrApiKey'
      ? '**API keys** are also limited per key (`rateLimitPerMinute`, default per key).'
      : undefined,
    route.cors === 'buyer' ? '**CORS:** callable from the origins in `ALLOWED_ORIGINS` (preflight answered).' : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(description ? { description } : {}),
    tags: [op.tag],
    security: securityOf(op.security),
    parameters: parametersOf(op),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchema(op.body, 'input'),
                ...(op.example !== undefined ? { example: op.example } : {}),
              },
            },
          },
        }
      : {}),
    ...(op.security.kind === 'stripeSignature' || op.security.kind === 'paypalSignature'
      ? {
          requestBody: {
            required: true,
            description: "The provider's signed event, byte for byte (the signature covers the raw body).",
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        }
      : {}),
    responses,
    'x-codeSamples': [{ lang: 'shell', label: 'cURL', source: curlOf(route, op) }],
  };
}

function errorCodeTable(): string {
  const rows = ERROR_CODES.map((code) => `| \`${code}\` | ${ERROR_STATUS[code]} |`);
  return ['| code | HTTP status |', '| --- | --- |', ...rows].join('\n');
}

export function buildOpenApiDocument(options: { version?: string } = {}): Json {
  const paths: Json = {};
  for (const route of ROUTES) {
    const item: Json = {};
    for (const op of route.operations) item[op.method] = operationOf(route, op);
    if (route.cors === 'buyer') {
      item.options = {
        operationId: `preflight${route.operations[0]?.operationId.replace(/^./, (c) => c.toUpperCase()) ?? ''}`,
        summary: 'CORS preflight',
        tags: [route.operations[0]?.tag ?? 'Buyer'],
        security: [],
        parameters: parametersOf({ ...(route.operations[0] as OperationSpec), query: undefined, idempotencyKey: undefined }),
        responses: {
          204: {
            description: 'Allowed origin (or no Origin): CORS headers and `Allow`',
            headers: headerRefs(['X-Request-Id', 'Allow']),
          },
          403: errorResponse(403, ['ORIGIN_NOT_ALLOWED'], route.operations[0] as OperationSpec),
        },
      };
    }
    paths[route.path] = item;
  }
  const tagOrder = ['Buyer', 'Orders', 'Payments', 'Reports', 'Admin', 'Door', 'Provider webhooks', 'Cron', 'Status'];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Boulder Fest payments API',
      version: options.version ?? '0.1.0',
      summary: 'Ticket payments for the A Lo Cubano Boulder Fest: Stripe Checkout and PayPal.',
      description: [
        'Money is always integer minor units with a currency (`"totalCents": 24000, "currency": "USD"`).',
        'Every error is `{ "error": { "code", "message", "requestId" } }`; the status follows the code:',
        '',
        errorCodeTable(),
        '',
        'Request bodies are strict: unknown fields are refused with 400 VALIDATION_ERROR listing the field paths in `error.details.fields`.',
        '',
        `Text input: ${TEXT_RULE_DESCRIPTION} Such a value in a body, query string or path is refused with 400 VALIDATION_ERROR naming the field.`,
        '',
        'Rate limits are sliding windows. Rate-limited answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds); a 429 adds `Retry-After`.',
        `Failed API-key attempts are throttled per client address: after ${AUTH_FAILURE_LIMIT.limit} in ${AUTH_FAILURE_LIMIT.windowSeconds} s the address gets 429 RATE_LIMITED before its key is looked at.`,
        '',
        'TypeScript types of every request and response body: `lib/contract/types.ts`.',
      ].join('\n'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'This deployment' }],
    tags: tagOrder.map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        ErrorBody: jsonSchema(errorBodySchema, 'output'),
        ErrorCode: {
          type: 'string',
          enum: [...ERROR_CODES],
          'x-status': Object.fromEntries(ERROR_CODES.map((code) => [code, ERROR_STATUS[code]])),
        },
      },
      headers: RESPONSE_HEADERS,
      securitySchemes: {
        buyerToken: {
          type: 'http',
          scheme: 'bearer',
          description: "The buyer's access token, returned once by POST /api/payments/checkout-session (`accessToken`).",
        },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'bf_live_<id>_<secret> | bf_test_<id>_<secret>',
          description: `A staff API key (\`npm run keys:create\` or POST /api/admin/api-keys). Scopes: ${API_KEY_SCOPES.map((s) => `\`${s}\``).join(', ')}; the scopes an operation needs are listed in its security requirement. Missing/invalid → 401, valid without the scope → 403.`,
        },
        cronSecret: {
          type: 'http',
          scheme: 'bearer',
          description: 'Vercel Cron sends `Authorization: Bearer $CRON_SECRET`. Not for people.',
        },
        stripeSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Stripe-Signature',
          description: "Stripe's webhook signature over the raw body (STRIPE_WEBHOOK_SECRET).",
        },
        paypalSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'PAYPAL-TRANSMISSION-SIG',
          description:
            "PayPal's webhook signature (with PAYPAL-TRANSMISSION-ID, -TIME, PAYPAL-CERT-URL, PAYPAL-AUTH-ALGO), verified against PAYPAL_WEBHOOK_ID.",
        },
      },
    },
  };
}
