import { X509Certificate } from 'node:crypto';
import { SANDBOX_CA_PEM } from '../../lib/providers/paypal-cert-trust.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBuildOutput, problemLines } from '../../scripts/build-vercel.js';
import { checkStaticOutput } from '../../scripts/lib/vercel-output.js';
import { databaseHost, databaseTargetRefusal } from '../../scripts/smoke/database-target.js';
import { driverEnv, driverOption } from '../../scripts/smoke/drivers.js';
import { EXPECTATIONS, SMOKE_ENV } from '../../scripts/smoke/expectations.js';
import { defaultPathFor, findExpectation } from '../../scripts/smoke/plan.js';
import { smokeOutput } from '../../scripts/smoke/run-smoke.js';
import type { ExpectationTable, MethodExpectation, RequestBuildContext } from '../../scripts/smoke/types.js';
import { startWsProxy } from '../support/ws-proxy.js';

/**
 * Synthetic `.vercel/output` trees written by hand (a handler .js + .vc-config.json per .func), so the
 * smoke check is proven without a real `vercel build`: it passes a good function and fails, naming the
 * function, one whose import breaks once the .func folder stands alone.
 */

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smoke-test-'));
  temps.push(dir);
  return dir;
}

function write(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** One .func folder: `files` relative to the .func root; handler at api/<route name>.js. */
function writeFunc(
  outputDir: string,
  route: string,
  files: Record<string, string>,
  extraConfig: Record<string, unknown> = {},
): void {
  const funcDir = join(outputDir, 'functions', `${route}.func`);
  write(join(funcDir, 'package.json'), '{"type":"module"}\n');
  write(
    join(funcDir, '.vc-config.json'),
    JSON.stringify({
      handler: `${route}.js`,
      runtime: 'nodejs22.x',
      launcherType: 'Nodejs',
      shouldAddHelpers: true,
      ...extraConfig,
    }),
  );
  for (const [path, content] of Object.entries(files)) write(join(funcDir, path), content);
}

const GOOD_HANDLER = `
import { json } from '../lib/json.js';
export async function GET(request) {
  return json({ path: new URL(request.url).pathname }, 200);
}
export async function POST(request) {
  const body = await request.json();
  return json({ got: body }, body.a === 1 ? 201 : 422);
}
`;
const JSON_LIB = `export function json(body, status) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
`;

function goodFunc(outputDir: string): void {
  writeFunc(outputDir, 'api/good', { 'api/good.js': GOOD_HANDLER, 'lib/json.js': JSON_LIB });
}

function publicWith(root: string, files: Record<string, string>): string {
  const publicDir = join(root, 'public');
  for (const [path, content] of Object.entries(files)) write(join(publicDir, path), content);
  return publicDir;
}

const GOOD_EXPECTATIONS: ExpectationTable = {
  'api/good': { GET: 200, POST: { status: 201, request: { body: { a: 1 } } } },
};

describe('smokeOutput', () => {
  it('passes a good function and records each method status', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    goodFunc(outputDir);
    write(join(outputDir, 'static', 'index.html'), '<h1>x</h1>');
    const publicDir = publicWith(root, { 'index.html': '<h1>x</h1>' });

    const result = await smokeOutput({
      root,
      outputDir,
      publicDir,
      expectations: GOOD_EXPECTATIONS,
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });

    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.functions).toHaveLength(1);
    const [fn] = result.functions;
    expect(fn?.route).toBe('api/good');
    expect(fn?.exports).toEqual(['GET', 'POST']);
    expect(fn?.calls.map((c) => [c.method, c.status])).toEqual([
      ['GET', 200],
      ['POST', 201],
    ]);
  });

  it('fails a status that differs from the table', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    goodFunc(outputDir);
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { 'api/good': { GET: 200, POST: { status: 201, request: { body: { a: 2 } } } } },
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^api\/good: POST: expected 201, got 422/);
  });

  it('fails, naming the function, a relative import without its .js extension', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    goodFunc(outputDir);
    writeFunc(outputDir, 'api/orders/[id]', {
      'api/orders/[id].js': `import { json } from '../../lib/json';\nexport async function GET() { return json({}, 200); }\n`,
      'lib/json.js': JSON_LIB,
    });
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { ...GOOD_EXPECTATIONS, 'api/orders/[id]': { GET: 200 } },
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.ok).toBe(false);
    expect(result.functions.find((f) => f.route === 'api/good')?.ok).toBe(true);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^api\/orders\/\[id\]: failed to import api\/orders\/\[id\]\.js: ERR_MODULE_NOT_FOUND/);
  });

  it('fails a function whose traced package is missing, and one that reaches outside its .func folder', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    writeFunc(outputDir, 'api/stripe', {
      'api/stripe.js': `import Stripe from 'not-traced-pkg';\nexport async function POST() { return new Response(String(Stripe), { status: 200 }); }\n`,
    });
    // Resolves in place (functions/shared.js exists next to the .func folders) but not in a lone copy.
    write(join(outputDir, 'functions', 'shared.js'), 'export const x = 1;\n');
    writeFunc(outputDir, 'api/leaky', {
      'api/leaky.js': `import { x } from '../../shared.js';\nexport async function GET() { return new Response(String(x)); }\n`,
    });
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { 'api/stripe': { POST: 200 }, 'api/leaky': { GET: 200 } },
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.ok).toBe(false);
    const byRoute = Object.fromEntries(result.functions.map((f) => [f.route, f]));
    expect(byRoute['api/stripe']?.problems[0]).toMatch(/failed to import api\/stripe\.js: ERR_MODULE_NOT_FOUND.*not-traced-pkg/);
    expect(byRoute['api/leaky']?.problems[0]).toMatch(/failed to import api\/leaky\.js: ERR_MODULE_NOT_FOUND/);
  });

  it('fails a built function that has no expectation, and an exported method without one', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    goodFunc(outputDir);
    writeFunc(outputDir, 'api/extra', { 'api/extra.js': 'export async function GET() { return new Response("x"); }\n' });
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { 'api/good': { GET: 200 } },
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.ok).toBe(false);
    // Functions come in path order: api/extra before api/good.
    expect(result.problems).toEqual([
      'api/extra: no expectation for api/extra (exports GET)',
      'api/good: no expectation for api/good POST',
    ]);
  });

  it('fails a handler that throws or returns something other than a Response', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    writeFunc(outputDir, 'api/bad', {
      'api/bad.js': `export async function GET() { throw new Error('boom'); }\nexport async function POST() { return { status: 200 }; }\n`,
    });
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { 'api/bad': { '*': 200 } },
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatch(/^api\/bad: GET: expected 200, threw Error: boom/);
    expect(result.problems[1]).toMatch(/^api\/bad: POST: expected 200, threw Error: handler did not return a Response/);
  });

  it('materialises filePathMap files from the repo root, with cwd at the .func root as on Vercel', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    write(join(root, 'migrations', '0001_x.sql'), 'select 1;');
    writeFunc(
      outputDir,
      'api/migrations',
      {
        'api/migrations.js': `import { readdirSync } from 'node:fs';
export async function GET() {
  const files = readdirSync('migrations');
  return new Response(files.join(','), { status: files.includes('0001_x.sql') ? 200 : 500 });
}
`,
      },
      { filePathMap: { 'migrations/0001_x.sql': 'migrations/0001_x.sql' } },
    );
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { 'api/migrations': { GET: 200 } },
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.problems).toEqual([]);
    expect(result.functions[0]?.calls[0]?.body).toBe('0001_x.sql');
  });

  it('passes the env and a built request to the handler', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    writeFunc(outputDir, 'api/cron/cleanup', {
      'api/cron/cleanup.js': `export async function GET(request) {
  const ok = request.headers.get('authorization') === 'Bearer ' + process.env.CRON_SECRET;
  return new Response(null, { status: ok ? 200 : 401 });
}
`,
    });
    const table: ExpectationTable = {
      'api/cron/**': {
        GET: { status: 200, request: (ctx) => ({ headers: { authorization: `Bearer ${ctx.env.CRON_SECRET}` } }) },
      },
    };
    const env = { PATH: process.env.PATH, CRON_SECRET: 's3cret' };
    const opts = { root, outputDir, publicDir: false as const, env, nodeBinary: process.execPath, log: () => {} };
    expect((await smokeOutput({ ...opts, expectations: table })).problems).toEqual([]);
    const without = await smokeOutput({ ...opts, expectations: { 'api/cron/**': { GET: 200 } } });
    expect(without.problems).toEqual(['api/cron/cleanup: GET: expected 200, got 401']);
  });
});

describe('smokeOutput extra calls and body checks', () => {
  const run = (root: string, expectations: ExpectationTable) =>
    smokeOutput({
      root,
      outputDir: join(root, '.vercel', 'output'),
      publicDir: false,
      expectations,
      env: { PATH: process.env.PATH },
      nodeBinary: process.execPath,
      log: () => {},
    });

  it('makes the `also` calls after the regular ones, in the same process, and records them', async () => {
    const root = tempRoot();
    goodFunc(join(root, '.vercel', 'output'));
    const seen: string[] = [];
    const result = await run(root, {
      'api/good': {
        GET: { status: 200, also: [{ status: 200, request: { path: '/api/good/deeper' }, note: 'deeper path' }] },
        POST: {
          status: 201,
          request: { body: { a: 1 } },
          also: [
            { status: 422, request: { body: { a: 2 } } },
            {
              method: 'GET',
              status: 200,
              request: (ctx) => {
                seen.push(`${ctx.method} ${ctx.route}`);
                return { path: '/api/good/from-builder' };
              },
              bodyIncludes: /from-builder/,
            },
          ],
        },
      },
    });
    expect(result.problems).toEqual([]);
    expect(seen).toEqual(['GET api/good']);
    expect(result.functions[0]?.calls.map((c) => [c.label, c.status, c.extra ?? false])).toEqual([
      ['GET', 200, false],
      ['POST', 201, false],
      ['GET (also: deeper path)', 200, true],
      ['POST (also: #1)', 422, true],
      ['GET (also: #2)', 200, true],
    ]);
    expect(result.functions[0]?.calls[2]?.body).toBe('{"path":"/api/good/deeper"}');
    expect(result.functions[0]?.calls[4]?.bodyIncludes).toBe('/from-builder/');
  });

  it('fails, naming the route and the call, an extra call that answers the wrong status', async () => {
    const root = tempRoot();
    goodFunc(join(root, '.vercel', 'output'));
    const result = await run(root, {
      'api/good': {
        GET: 200,
        POST: { status: 201, request: { body: { a: 1 } }, also: [{ status: 201, request: { body: { a: 2 } }, note: 'second' }] },
      },
    });
    expect(result.ok).toBe(false);
    expect(result.functions[0]?.ok).toBe(false);
    expect(result.problems).toEqual(['api/good: POST (also: second): expected 201, got 422 {"got":{"a":2}}']);
    expect(result.summary).toMatch(/FAILED \(1 of 1 functions failing\)/);
  });

  it('fails a body without the expected text (string or RegExp), even with the right status', async () => {
    const root = tempRoot();
    goodFunc(join(root, '.vercel', 'output'));
    const result = await run(root, {
      'api/good': {
        GET: { status: 200, bodyIncludes: '"status":"healthy"' },
        POST: {
          status: 201,
          request: { body: { a: 1 } },
          bodyIncludes: '"a":1',
          also: [{ status: 422, request: { body: { a: 2 } }, bodyIncludes: /"a":3/, note: 'regexp' }],
        },
      },
    });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      'api/good: GET: expected a body with "\\"status\\":\\"healthy\\"", got 200 {"path":"/api/good"}',
      'api/good: POST (also: regexp): expected a body with "/\\"a\\":3/", got 422 {"got":{"a":2}}',
    ]);
    const byLabel = Object.fromEntries(result.functions[0]?.calls.map((c) => [c.label, c.ok]) ?? []);
    expect(byLabel).toEqual({ GET: false, POST: true, 'POST (also: regexp)': false });
  });

  it('fails an extra call for a method the function does not export, one under * without a method, and a failing builder', async () => {
    const root = tempRoot();
    goodFunc(join(root, '.vercel', 'output'));
    const result = await run(root, {
      'api/good': {
        GET: { status: 200, also: [{ method: 'DELETE', status: 200 }] },
        POST: {
          status: 201,
          request: { body: { a: 1 } },
          also: [
            {
              status: 200,
              request: () => {
                throw new Error('no sandbox');
              },
              note: 'signed',
            },
          ],
        },
        '*': { status: 405, also: [{ status: 200 }] },
      },
    });
    // Builder problems in table order (POST before *), then the calls.
    expect(result.problems).toEqual([
      'api/good: POST (also: signed): request builder failed: no sandbox',
      'api/good: * (also: #1): an `also` call under * needs a method',
      'api/good: DELETE (also: #1): api/good does not export DELETE',
    ]);
  });
});

describe('--driver', () => {
  it('defaults to pg and refuses a missing or unknown driver rather than running on pg', () => {
    expect(driverOption(['--fresh-db'])).toBe('pg');
    expect(driverOption(['--driver', 'vercel-postgres', '--fresh-db'])).toBe('vercel-postgres');
    expect(driverOption(['--driver=vercel-postgres'])).toBe('vercel-postgres');
    expect(() => driverOption(['--driver'])).toThrow(/--driver needs one of pg, vercel-postgres \(got nothing\)/);
    expect(() => driverOption(['--driver', '--fresh-db'])).toThrow(/got nothing/);
    expect(() => driverOption(['--driver', 'neon'])).toThrow(/got neon/);
  });

  /** Answers with the database env it sees; `viaProxy` also opens one WebSocket through VERCEL_POSTGRES_WS_PROXY. */
  const envEcho = (viaProxy: boolean) => `import { request } from 'node:http';
const upgrade = () => new Promise((resolve, reject) => {
  const req = request(new URL('http://' + process.env.VERCEL_POSTGRES_WS_PROXY + '?address=127.0.0.1:9'), {
    headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
  });
  req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
  req.on('response', (res) => resolve(res.statusCode));
  req.on('error', reject);
  req.end();
});
export async function GET() {
  const upgraded = ${viaProxy} ? await upgrade() : null;
  const e = process.env;
  return Response.json({ upgraded, driver: e.DATABASE_DRIVER, hasDatabaseUrl: 'DATABASE_URL' in e, url: e.POSTGRES_URL,
    direct: e.POSTGRES_URL_NON_POOLING, proxy: e.VERCEL_POSTGRES_WS_PROXY });
}
`;

  it('runs the functions on vercel-postgres env, queries with DATABASE_URL itself, and fails a function that bypasses the proxy', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    writeFunc(outputDir, 'api/direct', { 'api/direct.js': envEcho(false) });
    writeFunc(outputDir, 'api/tunnelled', { 'api/tunnelled.js': envEcho(true) });
    const url = 'postgres://smoke@127.0.0.1:5432/smoke_db';
    const proxy = await startWsProxy();
    const seen: Array<string | undefined> = [];
    try {
      const result = await smokeOutput({
        root,
        outputDir,
        publicDir: false,
        expectations: {
          'api/*': {
            GET: {
              status: 200,
              request: (ctx) => {
                seen.push(ctx.databaseUrl);
                return {};
              },
            },
          },
        },
        env: driverEnv(
          { PATH: process.env.PATH, DATABASE_URL: 'postgres://wrong@127.0.0.1/x' },
          'vercel-postgres',
          url,
          proxy.wsProxy,
        ),
        databaseUrl: url,
        wsProxy: proxy,
        nodeBinary: process.execPath,
        log: () => {},
      });
      expect(seen).toEqual([url, url]);
      const byRoute = Object.fromEntries(result.functions.map((f) => [f.route, f]));
      expect(JSON.parse(byRoute['api/tunnelled']?.calls[0]?.body ?? '{}')).toEqual({
        upgraded: 101,
        driver: 'vercel-postgres',
        hasDatabaseUrl: false,
        url,
        direct: url,
        proxy: proxy.wsProxy,
      });
      expect(byRoute['api/tunnelled']).toMatchObject({ ok: true, tunnels: 1 });
      expect(byRoute['api/direct']).toMatchObject({ ok: false, tunnels: 0 });
      expect(result.problems).toEqual([
        'api/direct: no connection through the WebSocket proxy: not on the vercel-postgres driver, or never reached the database',
      ]);
      expect(result.summary).toBe('vercel smoke: FAILED (1 of 2 functions failing) on the vercel-postgres driver');
    } finally {
      await proxy.close();
    }
  });

  it('names the pg driver in the summary, with DATABASE_URL for the functions', async () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    writeFunc(outputDir, 'api/direct', { 'api/direct.js': envEcho(false) });
    const url = 'postgres://smoke@127.0.0.1:5432/smoke_db';
    const result = await smokeOutput({
      root,
      outputDir,
      publicDir: false,
      expectations: { 'api/direct': { GET: { status: 200, bodyIncludes: '"driver":"pg","hasDatabaseUrl":true' } } },
      env: driverEnv({ PATH: process.env.PATH, DATABASE_DRIVER: 'vercel-postgres' }, 'pg', url),
      nodeBinary: process.execPath,
      log: () => {},
    });
    expect(result.problems).toEqual([]);
    expect(result.functions[0]?.tunnels).toBeUndefined();
    expect(result.summary).toMatch(/^vercel smoke: all 1 functions answered as expected on the pg driver;/);
  });
});

describe('the signed webhook calls of the real table', () => {
  const extras = (route: string): NonNullable<MethodExpectation['also']> => {
    const post = EXPECTATIONS[route]?.POST;
    if (typeof post !== 'object' || !post.also) throw new Error(`${route} has no extra POST calls`);
    return post.also;
  };
  /** The request an extra call sends, with a string body (what a signature covers). */
  const built = async (extra: NonNullable<MethodExpectation['also']>[number] | undefined, ctx: RequestBuildContext) => {
    const spec = typeof extra?.request === 'function' ? await extra.request(ctx) : extra?.request;
    if (!spec || typeof spec.body !== 'string') throw new Error('expected a request with a raw string body');
    return { headers: spec.headers ?? {}, body: spec.body };
  };
  const context = (env: Record<string, string>, more: Partial<RequestBuildContext> = {}): RequestBuildContext => ({
    route: 'api/webhooks/x',
    method: 'POST',
    defaultPath: '/api/webhooks/x',
    databaseUrl: undefined,
    env,
    query: async () => [],
    ...more,
  });

  it('sends Stripe events that pass the app own signature check and object schemas', async () => {
    const { verifyStripeWebhook } = await import('../../lib/webhooks/stripe/verify.js');
    const { checkoutSessionSchema, chargeSchema, dataObject } = await import('../../lib/webhooks/stripe/objects.js');
    const ctx = context({ ...SMOKE_ENV });
    const [expired, again, refunded] = extras('api/webhooks/stripe');
    const first = await built(expired, ctx);
    // The duplicate is the very same delivery.
    expect((await built(again, ctx)).body).toBe(first.body);
    const secrets = [SMOKE_ENV.STRIPE_WEBHOOK_SECRET as string];
    const event = verifyStripeWebhook(first.body, first.headers['stripe-signature'] ?? null, secrets);
    expect(event.type).toBe('checkout.session.expired');
    const session = dataObject(event.payload, checkoutSessionSchema);
    expect(session.id).toMatch(/^cs_test_smoke_/);
    expect(session).toMatchObject({ client_reference_id: null, metadata: {}, payment_intent: null, payment_status: 'unpaid' });
    const charge = await built(refunded, ctx);
    const chargeEvent = verifyStripeWebhook(charge.body, charge.headers['stripe-signature'] ?? null, secrets);
    expect(chargeEvent.type).toBe('charge.refunded');
    expect(dataObject(chargeEvent.payload, chargeSchema).refunds).toBeUndefined();
    expect(() => verifyStripeWebhook(first.body, first.headers['stripe-signature'] ?? null, ['whsec_other'])).toThrow();
  });

  it('sends a PayPal event signed by the local sandbox that passes the app own offline check', async () => {
    const { startPayPalSandbox } = await import('../../sandbox/paypal-sandbox.js');
    const { createCertificateFetcher, verifyPayPalWebhookSignature } = await import(
      '../../lib/providers/paypal-webhook-signature.js'
    );
    const { checkoutOrderSchema, resourceOf } = await import('../../lib/webhooks/paypal/objects.js');
    const webhookId = SMOKE_ENV.PAYPAL_WEBHOOK_ID as string;
    const sandbox = await startPayPalSandbox({ webhookId, clientId: 'c', clientSecret: 's' });
    try {
      const [approval] = extras('api/webhooks/paypal');
      await expect(built(approval, context({ ...SMOKE_ENV }))).rejects.toThrow(/needs the local PayPal sandbox/);
      const ctx = context({ ...SMOKE_ENV, PAYPAL_CLIENT_ID: 'c', PAYPAL_CLIENT_SECRET: 's' }, { paypalSandbox: sandbox });
      const { headers, body } = await built(approval, ctx);
      const check = (id: string) =>
        verifyPayPalWebhookSignature({
          headers: new Headers(headers),
          rawBody: body,
          webhookId: id,
          fetchCertificate: createCertificateFetcher(),
          allowedCertOrigins: [new URL(sandbox.url).origin],
          trustedRoots: [new X509Certificate(SANDBOX_CA_PEM)],
        });
      expect(await check(webhookId)).toEqual({ ok: true });
      expect((await check('WH-OTHER')).ok).toBe(false);
      const event = JSON.parse(body) as { event_type: string };
      expect(event.event_type).toBe('CHECKOUT.ORDER.APPROVED');
      expect(resourceOf(event, checkoutOrderSchema).status).toBe('APPROVED');
    } finally {
      await sandbox.close();
    }
  });
});

describe('databaseTargetRefusal (the CLI refuses to write to a database that is not local without --fresh-db)', () => {
  const local = [
    'postgres://postgres@127.0.0.1:5432/test',
    'postgresql://u:p@localhost/db',
    'postgres://u@LOCALHOST:5433/db',
    'postgres://u@127.0.1.1/db',
    'postgres://u@[::1]:5432/db',
    'postgres://u@%2Fvar%2Frun%2Fpostgresql/db',
    'postgres://u@/db?host=/var/run/postgresql',
    'postgres:///db',
    '/var/run/postgresql db',
    'socket://u@/var/run/postgresql?db=x',
  ];
  const remote = [
    'postgres://u:secret@db.example.com:5432/staging',
    'postgres://u@10.0.0.5/db',
    'postgres://u@[2001:db8::1]/db',
    'postgres://u@localhost.example.com/db',
    'postgres://u@localhost/db?host=db.example.com',
    'postgres://u@/db?host=staging.internal',
  ];

  it.each(local)('lets %s through', (url) => {
    expect(databaseTargetRefusal(url, { freshDb: false, env: {} })).toBeUndefined();
  });

  it.each(remote)('refuses %s without --fresh-db, with one line naming the host and the way out', (url) => {
    const refusal = databaseTargetRefusal(url, { freshDb: false, env: {} });
    expect(refusal).toMatch(
      /^vercel smoke: refusing to write to the database on \S+, not a local one: .*orders.*webhook events.*API key.*crons.*use --fresh-db .*or a local database/,
    );
    expect(refusal).not.toContain('\n');
    expect(refusal).not.toContain('secret');
    expect(refusal).toContain(databaseHost(url, {}));
  });

  it('lets any host through with --fresh-db (the smoke then only creates and drops a database of its own)', () => {
    for (const url of remote) expect(databaseTargetRefusal(url, { freshDb: true, env: {} })).toBeUndefined();
  });

  it('follows PGHOST when the URL names no host, as pg does', () => {
    expect(databaseHost('postgres:///db', { PGHOST: 'db.example.com' })).toBe('db.example.com');
    expect(databaseTargetRefusal('postgres:///db', { freshDb: false, env: { PGHOST: 'db.example.com' } })).toMatch(
      /db\.example\.com/,
    );
  });

  it('refuses a DATABASE_URL it cannot read a host from', () => {
    expect(databaseTargetRefusal('mysql://localhost/db', { freshDb: false, env: {} })).toMatch(
      /^vercel smoke: refusing to write to a database whose host DATABASE_URL does not tell/,
    );
  });

  it('the CLI exits 2 with that line before touching anything', () => {
    const script = resolve(import.meta.dirname, '..', '..', 'scripts', 'smoke-vercel-output.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: 'postgres://u:secret@db.example.invalid:5432/staging' },
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      databaseTargetRefusal('postgres://u:secret@db.example.invalid:5432/staging', { freshDb: false, env: {} }),
    ]);
  });
});

describe('checkStaticOutput', () => {
  it('passes when static output is exactly files under public/', () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    const publicDir = publicWith(root, { 'index.html': 'x', 'img/logo.svg': '<svg/>' });
    write(join(outputDir, 'static', 'index.html'), 'x');
    write(join(outputDir, 'static', 'img', 'logo.svg'), '<svg/>');
    expect(checkStaticOutput(outputDir, publicDir)).toEqual({ ok: true, publicMissing: false, extraneous: [], problems: [] });
  });

  it('fails and lists every static path that is not under public/', () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    const publicDir = publicWith(root, { 'index.html': 'x' });
    write(join(outputDir, 'static', 'index.html'), 'x');
    write(join(outputDir, 'static', 'lib', 'config.ts'), 'export {}');
    write(join(outputDir, 'static', 'migrations', '0001_x.sql'), 'select 1;');
    const result = checkStaticOutput(outputDir, publicDir);
    expect(result.ok).toBe(false);
    expect(result.extraneous).toEqual(['lib/config.ts', 'migrations/0001_x.sql']);
    expect(result.problems[0]).toContain('lib/config.ts, migrations/0001_x.sql');
  });

  it('fails when public/ is missing or has no files', () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    write(join(outputDir, 'static', 'package-lock.json'), '{}');
    const missing = checkStaticOutput(outputDir, join(root, 'public'));
    expect(missing.ok).toBe(false);
    expect(missing.publicMissing).toBe(true);
    expect(missing.extraneous).toEqual(['package-lock.json']);
    mkdirSync(join(root, 'public'));
    const empty = checkStaticOutput(outputDir, join(root, 'public'));
    expect(empty.ok).toBe(false);
    expect(empty.problems[0]).toMatch(/public\/ has no files/);
  });
});

describe('expectation table helpers', () => {
  it('prefers an exact route over globs, and the longest glob', () => {
    const table: ExpectationTable = {
      'api/admin/**': { '*': 401 },
      'api/admin/orders/*': { GET: 403 },
      'api/admin/x': { GET: 200 },
    };
    expect(findExpectation(table, 'api/admin/x')?.key).toBe('api/admin/x');
    expect(findExpectation(table, 'api/admin/orders/[id]')?.key).toBe('api/admin/orders/*');
    expect(findExpectation(table, 'api/admin/orders/[id]/refund')?.key).toBe('api/admin/**');
    expect(findExpectation(table, 'api/health')).toBeUndefined();
  });

  it('fills dynamic segments and adds the query Vercel routing adds', () => {
    expect(defaultPathFor('api/health')).toBe('/api/health');
    expect(defaultPathFor('api/orders/[id]')).toBe('/api/orders/smoke?id=smoke');
  });
});

describe('build-vercel output checks', () => {
  it('fails on TypeScript errors and warnings that matter, ignores the local-build notice', () => {
    // Lines as `vercel build` 58.10.0 printed them in the lab build.
    const output = [
      'Vercel CLI 58.10.0 (Node.js 22.23.3)',
      'WARNING! Build not running on Vercel. System environment variables will not be available.',
      'Using TypeScript 5.9.3 (local user-provided)',
      "api/health.ts(1,50): error TS2835: Relative import paths need explicit file extensions in ECMAScript imports when '--moduleResolution' is 'node16' or 'nodenext'. Did you mean '../lib/x.js'?",
      'Warning: Due to "engines": { "node": "22.x" } in your `package.json` file, the Node.js Version defined in your Project Settings ("24.x") will not apply, Node.js Version "22.x" will be used instead. Learn More: https://vercel.link/node-version',
      'Build Completed in .vercel/output [10s]',
    ].join('\n');
    const problems = problemLines(output);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('error TS2835');
    expect(problems[1]).toMatch(/^Warning: Due to "engines"/);
    expect(problemLines('Vercel CLI 58.10.0\nBuild Completed in .vercel/output [9s]')).toEqual([]);
  });

  it('checks runtime, handler, crons and vercel.json keys of a written output', () => {
    const root = tempRoot();
    const outputDir = join(root, '.vercel', 'output');
    goodFunc(outputDir);
    writeFunc(
      outputDir,
      'api/old',
      { 'api/old.js': 'export async function GET() { return new Response(); }\n' },
      { runtime: 'nodejs20.x' },
    );
    writeFunc(outputDir, 'api/nohandler', {});
    write(
      join(root, 'vercel.json'),
      JSON.stringify({
        functionz: {},
        crons: [
          { path: '/api/good', schedule: '0 5 * * *' },
          { path: '/api/cron/missing', schedule: '0 6 * * *' },
        ],
      }),
    );
    const { problems, functions } = checkBuildOutput(root);
    expect(functions.map((f) => f.route)).toEqual(['api/good', 'api/nohandler', 'api/old']);
    expect(functions.find((f) => f.route === 'api/good')?.bytes).toBeGreaterThan(0);
    expect(problems).toEqual([
      'api/nohandler: handler file api/nohandler.js missing',
      'api/old: runtime nodejs20.x (expected nodejs22.x)',
      'vercel.json: unknown top-level key "functionz"',
      'vercel.json: cron path /api/cron/missing is not a built function',
    ]);
  });
});
