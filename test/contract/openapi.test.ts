import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import * as openapiRoute from '../../api/openapi.js';
import { ROUTES } from '../../lib/contract/routes.js';
import { API_KEY_SCOPES } from '../../lib/db/models/api-keys.js';
import { ERROR_CODES } from '../../lib/errors.js';
import { METHODS } from '../../lib/http/handler.js';
import { ERROR_STATUS } from '../../lib/http/error-status.js';
import { listApiFiles, openApiDocument, pathOfApiFile } from '../support/contract.js';
import { call } from '../support/http.js';

const document = openApiDocument();

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (@readme/openapi-parser)', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as never);
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.valid).toBe(true);
  });

  it('has every file in api/ as a path, and nothing that is not a file', () => {
    const files = listApiFiles();
    expect(files.length).toBeGreaterThanOrEqual(19);
    const missing = files.filter((file) => !document.paths[pathOfApiFile(file)]);
    expect(missing, 'api/ files missing from the OpenAPI document').toEqual([]);
    expect(ROUTES.map((route) => route.file).sort()).toEqual(files);
    expect(Object.keys(document.paths).sort()).toEqual(files.map(pathOfApiFile).sort());
  });

  it('documents exactly the methods each api/ file answers (any other method is a 405)', async () => {
    for (const file of listApiFiles()) {
      const mod = (await import(pathToFileURL(resolve(import.meta.dirname, '../..', file)).href)) as Record<
        string,
        (request: Request) => Promise<Response>
      >;
      const path = pathOfApiFile(file);
      const documented = Object.keys(document.paths[path]).filter((m) => m !== 'options');
      for (const method of METHODS) {
        const handler = mod[method];
        expect(handler, `${file} exports ${method}`).toBeTypeOf('function');
        // No credentials, no body: a documented method answers its own 4xx (or 200), the others 405.
        const response = await (handler as (r: Request) => Promise<Response>)(
          new Request(`http://localhost:3000${path.replace('{id}', '00000000-0000-4000-8000-000000000000')}`, { method }),
        );
        const is405 = response.status === 405;
        expect(is405, `${method} ${path} answered ${response.status}`).toBe(!documented.includes(method.toLowerCase()));
      }
    }
  });

  it('lists every error code with the status of the one code → status map, and every code is used by some operation', () => {
    const schema = document.components.schemas.ErrorCode;
    expect(schema.enum).toEqual([...ERROR_CODES]);
    expect(schema['x-status']).toEqual(ERROR_STATUS);
    const used = new Map<string, Set<string>>();
    for (const item of Object.values(document.paths) as Record<string, any>[]) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
          const json = response.content?.['application/json']?.schema;
          const variants = json?.anyOf ?? [json];
          for (const variant of variants) {
            for (const code of variant?.properties?.error?.properties?.code?.enum ?? []) {
              expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${code} under ${status}`).toBe(Number(status));
              used.set(code, (used.get(code) ?? new Set()).add(status));
            }
          }
        }
      }
    }
    const unused = ERROR_CODES.filter((code) => !used.has(code));
    expect(unused, 'error codes no operation documents').toEqual([]);
  });

  it('describes the security schemes: buyer token, API key with its scopes, cron secret, provider signatures', () => {
    const schemes = document.components.securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(['apiKey', 'buyerToken', 'cronSecret', 'paypalSignature', 'stripeSignature']);
    for (const scope of API_KEY_SCOPES) expect(schemes.apiKey.description).toContain(scope);
    expect(document.paths['/api/payments/refund'].post.security).toEqual([{ apiKey: ['refunds:write'] }]);
    expect(document.paths['/api/orders/{id}'].get.security).toEqual([{ buyerToken: [] }, { apiKey: ['orders:read'] }]);
    expect(document.paths['/api/cron/expire-holds'].get.security).toEqual([{ cronSecret: [] }]);
    expect(document.paths['/api/webhooks/stripe'].post.security).toEqual([{ stripeSignature: [] }]);
    expect(document.paths['/api/webhooks/stripe'].post.tags).toEqual(['Provider webhooks']);
  });

  it('documents Idempotency-Key (required on refunds) and the RateLimit-* headers on rate-limited answers', () => {
    const refund = document.paths['/api/payments/refund'].post;
    expect(refund.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
    const checkout = document.paths['/api/payments/checkout-session'].post;
    expect(checkout.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', required: false }));
    for (const status of ['201', '429']) {
      expect(Object.keys(checkout.responses[status].headers)).toEqual(
        expect.arrayContaining(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']),
      );
    }
    expect(Object.keys(checkout.responses['429'].headers)).toContain('Retry-After');
    expect(checkout.requestBody.content['application/json'].schema.properties.slidingScalePercent).toMatchObject({
      minimum: 0,
      maximum: 75,
    });
    // The refund reason's rule is written down now (it was learnt only from a 400 before).
    expect(refund.requestBody.content['application/json'].schema.properties.reason.maxLength).toBe(1000);
  });

  it('is served at /api/openapi.json', async () => {
    const response = await call(openapiRoute.GET, { path: '/api/openapi.json' });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(Object.keys(response.body.paths)).toEqual(Object.keys(document.paths));
  });
});
