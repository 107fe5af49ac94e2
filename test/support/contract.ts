import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../lib/contract/openapi.js';

/**
 * Checks every answer a test receives from an api/ handler against the OpenAPI document (the one
 * /api/openapi.json serves): the status is documented for that operation, the JSON body matches its
 * schema (no missing, extra or retyped field), error codes are among the ones documented for that
 * status, and the RateLimit-* / Retry-After / Idempotent-Replayed / Allow / WWW-Authenticate headers
 * it carries are documented. test/support/http.ts `call()` runs this for every call; a drift throws,
 * naming the route and the field.
 */

type Json = Record<string, any>;

const ROOT = resolve(import.meta.dirname, '../..');
const API_DIR = join(ROOT, 'api');

let documentCache: Json | undefined;
export function openApiDocument(): Json {
  documentCache ??= buildOpenApiDocument();
  return documentCache;
}

/** Every api/ file, relative to the repository root (`api/orders/[id].ts`). */
export function listApiFiles(dir = API_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) return listApiFiles(full);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative(ROOT, full)] : [];
    })
    .sort();
}

/** `api/orders/[id].ts` → `/api/orders/{id}`; `api/orders/index.ts` → `/api/orders`; with the document's rewrite for openapi. */
export function pathOfApiFile(file: string): string {
  const path = `/${file.replace(/\.ts$/, '').replace(/\/index$/, '')}`.replace(/\[([^\]]+)\]/g, '{$1}');
  return path === '/api/openapi' ? '/api/openapi.json' : path;
}

interface RouteRef {
  path: string;
  method: string;
}

let handlersPromise: Promise<Map<unknown, RouteRef>> | undefined;

/** Which api/ route and method a handler function is (imports every api/ module once). */
function handlerIndex(): Promise<Map<unknown, RouteRef>> {
  handlersPromise ??= (async () => {
    const index = new Map<unknown, RouteRef>();
    for (const file of listApiFiles()) {
      const mod = (await import(pathToFileURL(join(ROOT, file)).href)) as Record<string, unknown>;
      for (const [method, fn] of Object.entries(mod)) {
        if (typeof fn === 'function') index.set(fn, { path: pathOfApiFile(file), method: method.toLowerCase() });
      }
    }
    return index;
  })();
  return handlersPromise;
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats.default(ajv);
ajv.addSchema({ $id: 'openapi', components: openApiDocument().components } as Json, 'openapi');
const compiled = new Map<string, ValidateFunction>();

function validatorFor(key: string, schema: Json): ValidateFunction {
  let validator = compiled.get(key);
  if (!validator) {
    validator = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/')));
    compiled.set(key, validator);
  }
  return validator;
}

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

const CHECKED_HEADERS = [
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'retry-after',
  'idempotent-replayed',
  'allow',
  'www-authenticate',
];

function describeErrors(validator: ValidateFunction, body: unknown): string[] {
  return (validator.errors ?? []).slice(0, 10).map((error) => {
    const at = error.instancePath || '(body)';
    if (error.keyword === 'additionalProperties') {
      return `${at}: field "${error.params.additionalProperty}" is not in the document`;
    }
    if (error.keyword === 'required') return `${at}: required field "${error.params.missingProperty}" is missing`;
    const value = error.instancePath
      .split('/')
      .slice(1)
      .reduce<any>((v, k) => (v === undefined || v === null ? v : v[k.replaceAll('~1', '/').replaceAll('~0', '~')]), body);
    return `${at}: ${error.message} (got ${JSON.stringify(value)?.slice(0, 80)})`;
  });
}

/** Validates one received answer. Returns the route it was (undefined for handlers not in api/). */
export async function checkResponseAgainstDocument(
  handler: unknown,
  response: { status: number; headers: Headers; body: unknown; text: string },
): Promise<RouteRef | undefined> {
  const ref = (await handlerIndex()).get(handler);
  if (!ref) return undefined;
  const label = `${ref.method.toUpperCase()} ${ref.path}`;
  const fail = (message: string) => {
    throw new ContractViolation(`${label} → ${response.status}: ${message}`);
  };
  const operation = openApiDocument().paths[ref.path]?.[ref.method] as Json | undefined;
  let documented: Json | undefined;
  if (!operation) {
    // An undocumented method on a documented path: only the 405 answer is acceptable.
    if (response.status !== 405) fail(`method not in the document, yet answered ${response.status}`);
    documented = {
      headers: { Allow: {} },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    };
  } else {
    documented = operation.responses?.[String(response.status)] as Json | undefined;
    if (!documented)
      fail(`status ${response.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
  }
  const content = (documented?.content ?? {}) as Json;
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (response.text === '' && Object.keys(content).length === 0) return ref;
  if (!content[type]) fail(`content type "${type}" is not documented (documented: ${Object.keys(content).join(', ') || 'none'})`);
  if (type === 'application/json') {
    const validator = validatorFor(`${label} ${response.status}`, content[type].schema as Json);
    if (!validator(response.body)) {
      fail(`body does not match the document:\n  ${describeErrors(validator, response.body).join('\n  ')}`);
    }
  }
  const headers = Object.keys((documented?.headers ?? {}) as Json).map((h) => h.toLowerCase());
  for (const name of CHECKED_HEADERS) {
    if (response.headers.has(name) && !headers.includes(name)) fail(`header ${name} is sent but not documented`);
  }
  return ref;
}
