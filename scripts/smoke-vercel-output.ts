/**
 * `npx tsx scripts/smoke-vercel-output.ts` — runs every function of `.vercel/output` the way Vercel would:
 * each `functions/**\/*.func` folder is copied alone to a fresh temp dir (so a file the tracer left out is
 * really missing), a fresh Node 22 process (Vercel's runtime, see build-vercel.ts) chdirs there, imports the
 * handler named in `.vc-config.json`, calls each exported HTTP method with a `Request` and reports the
 * status. Statuses are compared with EXPECTATIONS below (route → method → status, optional request
 * builder). Also checks that `.vercel/output/static` holds only files that exist under public/.
 *
 * Fails (exit 1, summary on stderr) when: a function does not import (named, with the error: missing traced
 * file, relative import without `.js`...); a function has no expectation ("no expectation for api/x");
 * an exported method has none; an expected method is not exported; a status differs; a handler throws or
 * does not return a Response; public/ is missing; static output has a path not under public/.
 *
 * Options: --output DIR (default .vercel/output), --root DIR (repo root, default this repo),
 *   --only ROUTE (repeatable), --fresh-db (create a throw-away database on DATABASE_URL's server, migrate it,
 *   drop it after), --migrate (run migrations on DATABASE_URL first), --no-seed (by default the demo event
 *   and ticket types are upserted: checkout needs one), --no-stripe-sandbox (by default, unless STRIPE_API_BASE
 *   is set, the local Stripe sandbox is started and STRIPE_API_BASE / STRIPE_SECRET_KEY point the functions at
 *   it), --json (print the full result),
 *   --node PATH (Node binary; default the cached Node 22 from build-vercel, else this node).
 * Env: DATABASE_URL (real PostgreSQL; passed to the functions), anything else the functions read.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** What the child process turns into `new Request(url, { method, headers, body })`. */
export interface RequestSpec {
  /** Path + query on the default origin (default: `/<route>` with `[param]` → `smoke` and `?param=smoke`). */
  path?: string;
  /** Full URL; wins over `path`. */
  url?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON (content-type added when absent). */
  body?: unknown;
}

export interface RequestBuildContext {
  route: string;
  method: HttpMethod;
  /** `/<route>` with dynamic segments filled with "smoke" (and the matching query Vercel adds). */
  defaultPath: string;
  databaseUrl: string | undefined;
  env: Record<string, string | undefined>;
  /** Query the smoke database (e.g. pick a seeded ticket type). Throws without DATABASE_URL. */
  query: <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>;
}

export type RequestBuilder = RequestSpec | ((ctx: RequestBuildContext) => RequestSpec | Promise<RequestSpec>);

export interface MethodExpectation {
  /** Expected status (or any of several). */
  status: number | number[];
  request?: RequestBuilder;
  /** Extra env for this function's process (merged over the base env; applies to the whole process). */
  env?: Record<string, string>;
  note?: string;
}

/** Per route: method → status or full expectation. `*` = every exported method not listed. */
export type RouteExpectation = Partial<Record<HttpMethod | '*', number | MethodExpectation>>;
/** Keys: a route as built (`api/health`, `api/orders/[id]`) or a glob (`api/admin/**`, `api/cron/*`). */
export type ExpectationTable = Record<string, RouteExpectation>;

/**
 * Env every function process gets under the caller's env (the caller's values win). Fake secrets so
 * that "401 without CRON_SECRET" and "400 for an unsigned webhook" test the checks, not a missing
 * setting (that answers 500). VERCEL_ENV=preview: what `vercel build` targets; it lets STRIPE_API_BASE
 * (sandbox) through, which production refuses.
 */
export const SMOKE_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  VERCEL_ENV: 'preview',
  LOG_LEVEL: 'info',
  ALLOWED_ORIGINS: 'http://localhost:3000',
  CRON_SECRET: 'smoke-cron-secret-not-sent',
  STRIPE_WEBHOOK_SECRET: 'whsec_smoke_never_used_to_sign',
  PAYPAL_WEBHOOK_ID: 'WH-SMOKE-0000000000',
};

const buyerHeaders = { origin: 'http://localhost:3000' };

/**
 * THE TABLE THE LEAD FILLS IN. Route names are the api/ file paths without extension. Exact keys win over
 * globs; among globs the longest wins. Every built function must match an entry, every exported method
 * must have a status (`*` covers the rest: `defineRoute` exports all methods and answers 405 for unhandled).
 */
export const EXPECTATIONS: ExpectationTable = {
  'api/health': { GET: 200, '*': 405 },
  // Buyer routes (CORS preflight allowed).
  'api/tickets': {
    GET: { status: 200, request: { path: '/api/tickets?event=boulder-fest-2026', headers: buyerHeaders } },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'GET' } } },
    '*': 405,
  },
  // Checkout against the local Stripe sandbox (the CLI seeds the demo event and starts the sandbox).
  'api/payments/checkout-session': {
    POST: {
      status: 201,
      request: async (ctx) => {
        const [row] = await ctx.query<{ slug: string; code: string }>(
          `SELECT e.slug, t.code FROM ticket_types t JOIN events e ON e.id = t.event_id
            WHERE e.status = 'on_sale' ORDER BY t.price_cents, t.code LIMIT 1`,
        );
        if (!row) throw new Error('no on-sale ticket type in the smoke database (the CLI seeds one unless --no-seed)');
        return {
          headers: { ...buyerHeaders, 'idempotency-key': `smoke-${Date.now()}` },
          body: {
            event: row.slug,
            items: [{ ticketType: row.code, quantity: 1 }],
            customer: { email: 'smoke@example.com', firstName: 'Smoke', lastName: 'Test' },
            provider: 'stripe',
          },
        };
      },
    },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // An empty body is refused before any provider call.
  'api/payments/paypal-capture': {
    POST: { status: 400, request: { headers: buyerHeaders, body: {} } },
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'POST' } } },
    '*': 405,
  },
  // Unsigned provider webhooks are refused.
  'api/webhooks/**': {
    POST: { status: 400, request: { body: '{"id":"evt_unsigned"}', headers: { 'content-type': 'application/json' } } },
    '*': 405,
  },
  // Back office without an API key: 401 (defineRoute answers 405 for methods a file does not handle).
  'api/admin/api-keys': { GET: 401, POST: 401, '*': 405 },
  'api/admin/api-keys/[id]': { GET: 401, DELETE: 401, '*': 405 },
  'api/admin/webhook-events': { GET: 401, '*': 405 },
  'api/admin/webhook-events/[id]': { GET: 401, '*': 405 },
  'api/admin/webhook-events/[id]/replay': { POST: 401, '*': 405 },
  'api/audit': { GET: 401, '*': 405 },
  'api/orders/index': { GET: 401, '*': 405 },
  // No credential: the buyer view answers 404 for a missing order and for a missing/wrong token alike.
  'api/orders/[id]': {
    GET: 404,
    OPTIONS: { status: 204, request: { headers: { ...buyerHeaders, 'access-control-request-method': 'GET' } } },
    '*': 405,
  },
  'api/payments/transactions': { GET: 401, '*': 405 },
  'api/payments/refund': { POST: 401, '*': 405 },
  // Crons without CRON_SECRET (Vercel Cron calls GET).
  'api/cron/**': { GET: 401, '*': 405 },
};

export const DEFAULT_ORIGIN = 'http://localhost:3000';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '..');

// ---------------------------------------------------------------------------------------------------
// Static output

export interface StaticCheckResult {
  ok: boolean;
  publicMissing: boolean;
  /** Paths (relative, `/`-separated) in static output that are not files under public/. */
  extraneous: string[];
  problems: string[];
}

function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && statSync(abs).isDirectory())) out.push(...listFiles(abs, base));
    else out.push(relative(base, abs).split(sep).join('/'));
  }
  return out.sort();
}

/**
 * `.vercel/output/static` may only hold files that exist under public/ — with public/ Vercel serves just
 * that; without it the whole repo root. A missing (or, in git terms, empty) public/ fails.
 */
export function checkStaticOutput(outputDir: string, publicDir: string): StaticCheckResult {
  const problems: string[] = [];
  const publicMissing = !existsSync(publicDir) || !statSync(publicDir).isDirectory();
  if (publicMissing) {
    problems.push(`public/ is missing (${publicDir}): Vercel would serve the whole repo root as static files`);
  } else if (listFiles(publicDir).length === 0) {
    problems.push(
      `public/ has no files (${publicDir}): git keeps no empty folder, so a clone has no public/ and Vercel serves the repo root`,
    );
  }
  const staticFiles = listFiles(join(outputDir, 'static'));
  const extraneous = staticFiles.filter((file) => {
    if (publicMissing) return true;
    const inPublic = join(publicDir, ...file.split('/'));
    return !existsSync(inPublic) || !statSync(inPublic).isFile();
  });
  if (extraneous.length > 0) {
    const shown = extraneous.slice(0, 20).join(', ');
    problems.push(
      `static output has ${extraneous.length} path(s) not under public/: ${shown}${extraneous.length > 20 ? ', ...' : ''}`,
    );
  }
  return { ok: problems.length === 0, publicMissing, extraneous, problems };
}

// ---------------------------------------------------------------------------------------------------
// Functions

export interface FunctionInfo {
  route: string;
  dir: string;
  config: { handler?: string; runtime?: string; filePathMap?: Record<string, string>; [key: string]: unknown };
}

export function listFunctions(outputDir: string): FunctionInfo[] {
  const base = join(outputDir, 'functions');
  const found: FunctionInfo[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir).sort()) {
      const abs = join(dir, entry);
      if (!statSync(abs).isDirectory()) continue;
      if (entry.endsWith('.func')) {
        const route = relative(base, abs).slice(0, -'.func'.length).split(sep).join('/');
        const configFile = join(abs, '.vc-config.json');
        const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as FunctionInfo['config']) : {};
        found.push({ route, dir: abs, config });
      } else {
        walk(abs);
      }
    }
  };
  walk(base);
  return found;
}

/**
 * Copies one .func folder to a fresh temp dir (dereferencing the CLI's symlinks) and materialises a
 * `filePathMap` (files a non-standalone build leaves in the repo) from `root`, as a deploy uploads them.
 */
export function copyFunction(fn: FunctionInfo, root: string, parentTemp?: string): string {
  const temp = mkdtempSync(join(parentTemp ?? tmpdir(), 'vercel-func-'));
  const dest = join(temp, 'task');
  cpSync(fn.dir, dest, { recursive: true, dereference: true });
  for (const [inFunc, inRepo] of Object.entries(fn.config.filePathMap ?? {})) {
    const target = join(dest, inFunc);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(root, inRepo), target, { dereference: true });
  }
  return dest;
}

export interface PlannedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface RunnerCall {
  method: string;
  status?: number;
  /** Duration of this call (handler + reading the body). */
  ms?: number;
  /** From the start of the import to the end of this call. */
  sinceImportStartMs?: number;
  /** CPU time (user + system) of the process over the same span: far less sensitive to a busy machine. */
  cpuSinceImportStartMs?: number;
  body?: string;
  error?: string;
  /** The module does not export this method; nothing was called. */
  skipped?: boolean;
}

export interface RunnerOutput {
  exports: string[];
  /** With `trackPackages` on Node >= 22.15: node_modules packages the import (and calls) resolved, in order. */
  loadedPackages?: string[];
  importMs?: number;
  /** CPU time (user + system) spent importing. */
  importCpuMs?: number;
  importError?: { code?: string; message: string };
  calls: RunnerCall[];
  /** Wall time from spawn to exit, seen by the parent. */
  processMs: number;
  exitCode: number | null;
  stderr: string;
  stdout: string;
  timedOut: boolean;
}

/** Plain ESM run by the child Node: no TypeScript, nothing from the repo. */
const RUNNER_SOURCE = `
import { readFileSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [funcDir, planFile, resultFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const out = { exports: [], calls: [] };
if (plan.trackPackages && typeof module.registerHooks === 'function') {
  const seen = new Set();
  out.loadedPackages = [];
  module.registerHooks({
    resolve(specifier, context, next) {
      const result = next(specifier, context);
      const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url || '');
      if (m && !seen.has(m[1])) { seen.add(m[1]); out.loadedPackages.push(m[1]); }
      return result;
    },
  });
}
const save = () => writeFileSync(resultFile, JSON.stringify(out));
const describe = (e) => (e && e.stack ? String(e.stack) : String(e)).split('\\n').slice(0, 6).join('\\n').slice(0, 2000);
process.chdir(funcDir);
const started = performance.now();
const cpu0 = process.cpuUsage();
const cpuMs = () => { const u = process.cpuUsage(cpu0); return (u.user + u.system) / 1000; };
let mod;
try {
  mod = await import(pathToFileURL(join(funcDir, plan.handler)).href);
} catch (e) {
  out.importMs = performance.now() - started;
  out.importError = { code: e && e.code, message: describe(e) };
  save();
  process.exit(0);
}
out.importMs = performance.now() - started;
out.importCpuMs = cpuMs();
out.exports = Object.keys(mod).sort();
save();
for (const call of plan.calls) {
  const fn = mod[call.method];
  const t = performance.now();
  if (typeof fn !== 'function') { out.calls.push({ method: call.method, skipped: true }); continue; }
  try {
    const init = { method: call.method, headers: call.headers };
    if (call.body !== undefined && call.method !== 'GET' && call.method !== 'HEAD') init.body = call.body;
    const response = await fn(new Request(call.url, init));
    if (!(response instanceof Response)) throw new Error('handler did not return a Response (got ' + typeof response + ')');
    const text = call.method === 'HEAD' ? '' : await response.text();
    const now = performance.now();
    out.calls.push({ method: call.method, status: response.status, ms: now - t, sinceImportStartMs: now - started, cpuSinceImportStartMs: cpuMs(), body: text.slice(0, 400) });
  } catch (e) {
    out.calls.push({ method: call.method, ms: performance.now() - t, error: describe(e) });
  }
  save();
}
save();
process.exit(0);
`;

export interface RunFunctionOptions {
  /** The (copied) .func folder. */
  funcDir: string;
  handler: string;
  calls: PlannedCall[];
  nodeBinary: string;
  env: Record<string, string | undefined>;
  timeoutMs?: number | undefined;
  /** Record which packages get loaded (module.registerHooks; skews timing a little, so not for timed runs). */
  trackPackages?: boolean;
}

/** One fresh `node` process: import the handler, make the calls in order, report. */
export async function runFunctionProcess(opts: RunFunctionOptions): Promise<RunnerOutput> {
  const work = mkdtempSync(join(tmpdir(), 'vercel-runner-'));
  const runner = join(work, 'runner.mjs');
  const planFile = join(work, 'plan.json');
  const resultFile = join(work, 'result.json');
  writeFileSync(runner, RUNNER_SOURCE);
  writeFileSync(
    planFile,
    JSON.stringify({ handler: opts.handler, calls: opts.calls, trackPackages: opts.trackPackages ?? false }),
  );
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.env)) if (value !== undefined) env[key] = value;
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  try {
    const exitCode = await new Promise<number | null>((resolveExit, reject) => {
      const child = spawn(opts.nodeBinary, [runner, opts.funcDir, planFile, resultFile], {
        cwd: opts.funcDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 30_000);
      child.stdout.on('data', (c: Buffer) => {
        if (stdout.length < 20_000) stdout += c.toString('utf8');
      });
      child.stderr.on('data', (c: Buffer) => {
        if (stderr.length < 20_000) stderr += c.toString('utf8');
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolveExit(code);
      });
    });
    const processMs = performance.now() - started;
    const result = existsSync(resultFile)
      ? (JSON.parse(readFileSync(resultFile, 'utf8')) as Omit<
          RunnerOutput,
          'processMs' | 'exitCode' | 'stderr' | 'stdout' | 'timedOut'
        >)
      : { exports: [], calls: [] };
    return { ...result, processMs, exitCode, stderr, stdout, timedOut };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `/<route>` (`api/orders/index` → `/api/orders`) with `[param]` segments filled in, plus the query Vercel's routing adds for them. */
export function defaultPathFor(route: string): string {
  const params: string[] = [];
  const path = `/${route}`
    .replace(/\/index$/, '')
    .split('/')
    .map((segment) => {
      const match = /^\[(?:\.\.\.)?([^\]]+)\]$/.exec(segment);
      if (!match) return segment;
      params.push(match[1] ?? 'param');
      return 'smoke';
    })
    .join('/');
  return params.length === 0 ? path : `${path}?${params.map((p) => `${encodeURIComponent(p)}=smoke`).join('&')}`;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (ch === '*') re += '[^/]*';
    else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The table entry for a route: exact key, else the longest matching glob. */
export function findExpectation(table: ExpectationTable, route: string): { key: string; entry: RouteExpectation } | undefined {
  if (Object.hasOwn(table, route)) return { key: route, entry: table[route] as RouteExpectation };
  const globs = Object.keys(table)
    .filter((key) => key.includes('*') && globToRegExp(key).test(route))
    .sort((a, b) => b.length - a.length);
  const key = globs[0];
  return key === undefined ? undefined : { key, entry: table[key] as RouteExpectation };
}

function normalise(value: number | MethodExpectation): MethodExpectation {
  return typeof value === 'number' ? { status: value } : value;
}

export interface CallResult {
  method: string;
  expected: number[];
  status?: number;
  ok: boolean;
  ms?: number;
  error?: string;
  body?: string;
}

export interface FunctionResult {
  route: string;
  ok: boolean;
  problems: string[];
  exports: string[];
  importMs?: number;
  calls: CallResult[];
  /** What the function printed (its log lines), capped; shown with failures. */
  logs?: string;
}

export interface SmokeOptions {
  /** `.vercel/output` (default `<root>/.vercel/output`). */
  outputDir?: string;
  /** Repo root, for `filePathMap` entries (default this repo). */
  root?: string;
  /** public/ to check static output against (default `<root>/public`); `false` skips the static check. */
  publicDir?: string | false;
  expectations?: ExpectationTable;
  /** Base env of every function process over SMOKE_ENV (default process.env). DATABASE_URL is read from here. */
  env?: Record<string, string | undefined>;
  /** Node binary for the function processes (default: cached Node 22 from build-vercel, else this node). */
  nodeBinary?: string;
  /** Per function process (default 30 s). */
  timeoutMs?: number;
  /** Only these routes. */
  only?: string[];
  log?: (line: string) => void;
}

export interface SmokeResult {
  ok: boolean;
  functions: FunctionResult[];
  static?: StaticCheckResult;
  /** Every problem, one line each, prefixed with the function's route. */
  problems: string[];
  summary: string;
}

/** Node 22 from build-vercel's cache when installed; otherwise the current node. */
export async function defaultNodeBinary(): Promise<string> {
  try {
    const { ensureNode22 } = await import('./build-vercel.js');
    return ensureNode22({ install: false });
  } catch {
    return process.execPath;
  }
}

export async function smokeOutput(opts: SmokeOptions = {}): Promise<SmokeResult> {
  const root = resolve(opts.root ?? REPO_ROOT);
  const outputDir = resolve(opts.outputDir ?? join(root, '.vercel', 'output'));
  const table = opts.expectations ?? EXPECTATIONS;
  const baseEnv = opts.env ?? { ...process.env };
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const nodeBinary = opts.nodeBinary ?? (await defaultNodeBinary());
  const databaseUrl = baseEnv.DATABASE_URL;
  const problems: string[] = [];
  const results: FunctionResult[] = [];

  let client: pg.Client | undefined;
  const query = async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> => {
    if (!databaseUrl) throw new Error('DATABASE_URL is not set');
    if (!client) {
      client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
    }
    return (await client.query<R>(sql, params)).rows;
  };

  if (!existsSync(join(outputDir, 'functions')))
    problems.push(`no functions folder in ${outputDir} (run npm run build:vercel first)`);
  let functions = listFunctions(outputDir);
  if (opts.only && opts.only.length > 0) functions = functions.filter((fn) => opts.only?.includes(fn.route));
  const tempParent = mkdtempSync(join(tmpdir(), 'vercel-smoke-'));

  try {
    for (const fn of functions) {
      const result: FunctionResult = { route: fn.route, ok: false, problems: [], exports: [], calls: [] };
      results.push(result);
      const fail = (message: string) => result.problems.push(message);
      const handler = fn.config.handler;
      if (!handler) {
        fail('no handler in .vc-config.json');
        continue;
      }
      const found = findExpectation(table, fn.route);
      const env = { ...SMOKE_ENV, ...baseEnv };

      // Requests for every method the table covers; the child calls only those the module exports.
      const planned: Array<{ method: HttpMethod; expected: number[] }> = [];
      const calls: PlannedCall[] = [];
      const builderErrors = new Map<HttpMethod, string>();
      let extraEnv: Record<string, string> = {};
      for (const method of HTTP_METHODS) {
        const raw = found?.entry[method] ?? found?.entry['*'];
        if (raw === undefined) continue;
        const expectation = normalise(raw);
        const defaultPath = defaultPathFor(fn.route);
        let spec: RequestSpec = {};
        try {
          spec =
            typeof expectation.request === 'function'
              ? await expectation.request({ route: fn.route, method, defaultPath, databaseUrl, env, query })
              : (expectation.request ?? {});
        } catch (error) {
          builderErrors.set(method, error instanceof Error ? error.message : String(error));
          continue;
        }
        const headers: Record<string, string> = { ...(spec.headers ?? {}) };
        let body: string | undefined;
        if (spec.body !== undefined) {
          if (typeof spec.body === 'string') body = spec.body;
          else {
            body = JSON.stringify(spec.body);
            if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
              headers['content-type'] = 'application/json';
          }
        }
        const url = spec.url ?? new URL(spec.path ?? defaultPath, DEFAULT_ORIGIN).toString();
        calls.push({ method, url, headers, ...(body === undefined ? {} : { body }) });
        planned.push({ method, expected: Array.isArray(expectation.status) ? expectation.status : [expectation.status] });
        extraEnv = { ...extraEnv, ...(expectation.env ?? {}) };
      }

      // One fresh process on a lone copy of the folder: import (a failure here names the function), then the calls.
      const copy = copyFunction(fn, root, tempParent);
      const run = await runFunctionProcess({
        funcDir: copy,
        handler,
        calls,
        nodeBinary,
        env: { ...env, ...extraEnv },
        timeoutMs: opts.timeoutMs,
      });
      rmSync(dirname(copy), { recursive: true, force: true });
      const logs = `${run.stdout}${run.stderr}`.trim();
      if (logs) result.logs = logs.slice(-4_000);
      if (run.importError || (run.importMs === undefined && (run.timedOut || run.exitCode !== 0))) {
        const why = run.importError
          ? `${run.importError.code ? `${run.importError.code}: ` : ''}${run.importError.message.split('\n')[0]}`
          : run.timedOut
            ? 'import timed out'
            : `process exited ${run.exitCode}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        fail(`failed to import ${handler}: ${why}`);
        continue;
      }
      result.exports = run.exports;
      if (run.importMs !== undefined) result.importMs = run.importMs;
      const exported = run.exports.filter((name): name is HttpMethod => (HTTP_METHODS as readonly string[]).includes(name));
      if (exported.length === 0) fail(`exports no HTTP method (exports: ${run.exports.join(', ') || 'nothing'})`);
      if (!found) {
        fail(`no expectation for ${fn.route} (exports ${exported.join(', ') || 'nothing'})`);
        continue;
      }
      for (const method of Object.keys(found.entry)) {
        if (method !== '*' && !exported.includes(method as HttpMethod) && !found.key.includes('*')) {
          fail(`expects ${method} but ${fn.route} does not export it`);
        }
      }
      for (const method of exported) {
        if (found.entry[method] === undefined && found.entry['*'] === undefined) fail(`no expectation for ${fn.route} ${method}`);
        const builderError = builderErrors.get(method);
        if (builderError) fail(`${method}: request builder failed: ${builderError}`);
      }
      if (run.timedOut) fail(`timed out after ${opts.timeoutMs ?? 30_000} ms`);
      planned.forEach((plan, index) => {
        if (!exported.includes(plan.method)) return;
        const got = run.calls[index];
        const call: CallResult = { method: plan.method, expected: plan.expected, ok: false };
        if (!got) call.error = run.timedOut ? 'timed out' : `no answer (process exit ${run.exitCode})`;
        else {
          if (got.status !== undefined) call.status = got.status;
          if (got.ms !== undefined) call.ms = got.ms;
          if (got.error) call.error = got.error.split('\n')[0];
          if (got.body) call.body = got.body;
        }
        call.ok = call.status !== undefined && plan.expected.includes(call.status);
        result.calls.push(call);
        if (!call.ok) {
          const detail = call.error
            ? `threw ${call.error}`
            : `got ${call.status}${call.body ? ` ${call.body.slice(0, 160)}` : ''}`;
          fail(`${plan.method}: expected ${plan.expected.join(' or ')}, ${detail}`);
        }
      });
      result.ok = result.problems.length === 0;
      if (!result.ok && result.logs) {
        const tail = result.logs
          .split('\n')
          .filter((line) => /error|warn|fail/i.test(line))
          .slice(-2);
        for (const line of tail) result.problems.push(`log: ${line.slice(0, 300)}`);
      }
    }
  } finally {
    rmSync(tempParent, { recursive: true, force: true });
    if (client) await (client as pg.Client).end().catch(() => undefined);
  }

  let staticResult: StaticCheckResult | undefined;
  if (opts.publicDir !== false) {
    staticResult = checkStaticOutput(outputDir, opts.publicDir ?? join(root, 'public'));
    problems.push(...staticResult.problems.map((p) => `static: ${p}`));
  }
  for (const r of results) problems.push(...r.problems.map((p) => `${r.route}: ${p}`));
  if (results.length === 0 && problems.length === 0) problems.push(`no .func folders under ${join(outputDir, 'functions')}`);

  for (const r of results) {
    const calls = r.calls.map((c) => `${c.method} ${c.status ?? 'ERR'}${c.ok ? '' : '!'}`).join(', ');
    log(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.route}${r.importMs !== undefined ? ` (import ${Math.round(r.importMs)} ms)` : ''}${calls ? `: ${calls}` : ''}`,
    );
  }
  const failed = results.filter((r) => !r.ok).length;
  const ok = problems.length === 0;
  const summary = ok
    ? `vercel smoke: all ${results.length} functions answered as expected; static output = public/`
    : `vercel smoke: FAILED (${failed} of ${results.length} functions failing${staticResult && !staticResult.ok ? ', static output wrong' : ''})`;
  return { ok, functions: results, ...(staticResult ? { static: staticResult } : {}), problems, summary };
}

// ---------------------------------------------------------------------------------------------------
// CLI

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only: string[] = [];
  args.forEach((arg, i) => {
    if (arg === '--only' && args[i + 1]) only.push(args[i + 1] as string);
  });
  const root = resolve(value('--root') ?? REPO_ROOT);
  const env: Record<string, string | undefined> = { ...process.env };
  let dropDatabase: (() => Promise<void>) | undefined;

  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: the functions run against a real migrated database');
  if (args.includes('--fresh-db')) {
    const adminUrl = env.DATABASE_URL;
    const name = `bf_smoke_${Date.now().toString(36)}_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    env.DATABASE_URL = withDatabase(adminUrl, name);
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  try {
    if (args.includes('--fresh-db') || args.includes('--migrate')) {
      const { migrateUp } = await import('../lib/db/migrate.js');
      await migrateUp({ databaseUrl: env.DATABASE_URL as string });
    }
    if (!args.includes('--no-seed')) {
      // lib/ reads DATABASE_URL from process.env: point it at the fresh database for the seed only.
      const { seedDemoData } = await import('./lib/seed.js');
      const { resetConfigForTests } = await import('../lib/config.js');
      const { closePool, db } = await import('../lib/db/client.js');
      process.env.DATABASE_URL = env.DATABASE_URL;
      resetConfigForTests();
      try {
        await seedDemoData(db);
      } finally {
        await closePool();
      }
    }
    // Never let a function reach Stripe itself: without a given STRIPE_API_BASE the local sandbox stands in.
    if (!env.STRIPE_API_BASE && !args.includes('--no-stripe-sandbox')) {
      const { startStripeSandbox } = await import('../sandbox/stripe-sandbox.js');
      const sandbox = await startStripeSandbox({ webhookSecret: SMOKE_ENV.STRIPE_WEBHOOK_SECRET });
      env.STRIPE_API_BASE = sandbox.url;
      env.STRIPE_SECRET_KEY ??= 'sk_test_smoke';
      const previous = dropDatabase;
      dropDatabase = async () => {
        await sandbox.close();
        if (previous) await previous();
      };
    }
    const nodeFlag = value('--node');
    const output = value('--output');
    const result = await smokeOutput({
      root,
      env,
      ...(output ? { outputDir: output } : {}),
      ...(nodeFlag ? { nodeBinary: nodeFlag } : {}),
      ...(only.length > 0 ? { only } : {}),
    });
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    for (const p of result.problems) process.stderr.write(`  - ${p}\n`);
    process.stderr.write(`${result.summary}\n`);
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    if (dropDatabase) await dropDatabase();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`vercel smoke: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
