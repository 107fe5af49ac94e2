import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { db } from '../../lib/db/client.js';
import { startStripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { copyFunction, dirBytes, listFunctions } from '../lib/vercel-output.js';
import { seedDemoData } from '../lib/seed.js';
import { EXPECTATIONS, SMOKE_ENV } from '../smoke/expectations.js';
import { defaultPathFor, findExpectation } from '../smoke/plan.js';
import { defaultNodeBinary } from '../smoke/run-smoke.js';
import { type PlannedCall, runFunctionProcess } from '../smoke/runner.js';
import {
  type ExpectationTable,
  HTTP_METHODS,
  type HttpMethod,
  type MethodExpectation,
  type RequestSpec,
} from '../smoke/types.js';
import { percentile, startBenchEnvironment } from './environment.js';

/**
 * `npm run bench -- cold-start [--runs 10] [--package-runs 5] [--output DIR] [--only ROUTE] [--node PATH]`
 *
 * For every built function (`.vercel/output/functions/**\/*.func`, run `npm run build:vercel` first): the
 * folder is copied alone to a temp dir once, then `runs` fresh Node 22 processes each import the handler
 * and answer one request (the route's GET if it has an expectation, else its first expected method, with
 * the request the smoke table builds). Medians of: import ms, first-answer ms (import start → first
 * response body read), process ms (spawn → exit, includes Node's own start). Plus the .func size in bytes
 * and the packages it ships. Separately, the import cost of each heavy dependency in a fresh process.
 * Goals (issue): first answer < 150 ms for every function, no .func above 15 MB. A measurement, not a test:
 * the result lists what misses the goals. Against a fresh migrated, seeded database (bench environment) and
 * the local Stripe sandbox (STRIPE_API_BASE), with SMOKE_ENV's fake secrets; rate limits off.
 */

export const HEAVY_PACKAGES = [
  'stripe',
  'pg',
  '@paypal/paypal-server-sdk',
  'zod',
  '@vercel/functions',
  '@vercel/postgres',
  'node-pg-migrate',
] as const;
export const GOAL_FIRST_ANSWER_MS = 150;
export const GOAL_FUNC_BYTES = 15 * 1024 * 1024;

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '..', '..');

export interface ColdStartOptions {
  runs?: number | string;
  'package-runs'?: number | string;
  packageRuns?: number | string;
  output?: string;
  outputDir?: string;
  root?: string;
  node?: string;
  nodeBinary?: string;
  only?: string;
  expectations?: ExpectationTable;
  /** Use this database instead of a fresh bench database. */
  databaseUrl?: string;
  /** Skip the per-package import measurement. */
  'skip-packages'?: string | boolean;
}

export interface FunctionColdStart {
  route: string;
  /** `.vc-config.json` handler: `*.bundle.mjs` when `npm run build:vercel` bundled it (the default). */
  handler: string;
  bytes: number;
  /** Top-level packages in the .func's node_modules (shipped). */
  packages: string[];
  /** Packages actually loaded by importing the handler (Node >= 22.15), in load order. */
  loadedAtImport: string[] | undefined;
  method: string;
  status: number | undefined;
  expectedStatus: number[];
  runs: number;
  medianImportMs: number;
  medianFirstAnswerMs: number;
  medianProcessMs: number;
  /** CPU ms (user + system) for import and for import + first answer: robust to a loaded machine. */
  medianImportCpuMs: number;
  medianFirstAnswerCpuMs: number;
  p90FirstAnswerMs: number;
  importMs: number[];
  firstAnswerMs: number[];
  errors: string[];
  meetsGoals: boolean;
  /** Heavy packages it loads at import (else: ships), most expensive first (per-package import cost). */
  heaviestImports: Array<{ name: string; medianImportMs: number }>;
}

const round = (n: number) => Math.round(n * 10) / 10;
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** Top-level package names in a .func's node_modules (scoped as @scope/name). */
export function shippedPackages(funcDir: string): string[] {
  const base = join(funcDir, 'node_modules');
  if (!existsSync(base)) return [];
  const names: string[] = [];
  for (const entry of readdirSync(base).sort()) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const sub of readdirSync(join(base, entry)).sort()) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  return names;
}

/** Import cost of one package in a fresh process (median of `runs`), resolved from `root`. */
export async function measurePackageImport(
  name: string,
  opts: { nodeBinary: string; root: string; runs: number },
): Promise<{ name: string; medianImportMs: number; medianImportCpuMs: number; samples: number[]; error?: string }> {
  const { spawn } = await import('node:child_process');
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  const code = `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(name)}); const u = process.cpuUsage(c); process.stdout.write(JSON.stringify([performance.now() - t, (u.user + u.system) / 1000]));`;
  for (let i = 0; i < opts.runs; i++) {
    const { out, err, status } = await new Promise<{ out: string; err: string; status: number | null }>((done) => {
      const child = spawn(opts.nodeBinary, ['--input-type=module', '-e', code], {
        cwd: opts.root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      child.on('close', (status) => done({ out, err, status }));
    });
    if (status !== 0)
      return {
        name,
        medianImportMs: Number.NaN,
        medianImportCpuMs: Number.NaN,
        samples,
        error: err.trim().split('\n')[0] ?? `exit ${status}`,
      };
    const [wall, cpu] = JSON.parse(out) as [number, number];
    samples.push(round(wall));
    cpuSamples.push(round(cpu));
  }
  return { name, medianImportMs: median(samples), medianImportCpuMs: median(cpuSamples), samples };
}

function pickMethod(exportsList: string[], entry: Partial<Record<string, number | MethodExpectation>>): HttpMethod | undefined {
  const exported = exportsList.filter((m): m is HttpMethod => (HTTP_METHODS as readonly string[]).includes(m));
  if (exported.includes('GET') && entry.GET !== undefined) return 'GET';
  const explicit = Object.keys(entry).find((m): m is HttpMethod => m !== '*' && exported.includes(m as HttpMethod));
  return explicit ?? (exported.includes('GET') ? 'GET' : exported[0]);
}

export async function benchColdStart(opts: ColdStartOptions = {}): Promise<object> {
  const root = resolve(opts.root ?? REPO_ROOT);
  const outputDir = resolve(opts.outputDir ?? opts.output ?? join(root, '.vercel', 'output'));
  const runs = Number(opts.runs ?? 10);
  const packageRuns = Number(opts.packageRuns ?? opts['package-runs'] ?? 5);
  const nodeBinary = opts.nodeBinary ?? opts.node ?? (await defaultNodeBinary());
  const table = opts.expectations ?? EXPECTATIONS;
  let functions = listFunctions(outputDir);
  if (opts.only) functions = functions.filter((f) => f.route === opts.only);
  if (functions.length === 0)
    throw new Error(`no .func folders under ${join(outputDir, 'functions')} (run npm run build:vercel first)`);

  const environment = opts.databaseUrl ? undefined : await startBenchEnvironment({ RATE_LIMIT_ENABLED: 'false' });
  const databaseUrl = opts.databaseUrl ?? environment?.databaseUrl;
  // The demo event (checkout needs a ticket type) and the local Stripe sandbox: no provider host is called.
  if (environment) await seedDemoData(db);
  const sandbox = await startStripeSandbox({ webhookSecret: SMOKE_ENV.STRIPE_WEBHOOK_SECRET });
  const env: Record<string, string | undefined> = {
    ...SMOKE_ENV,
    ...process.env,
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'production',
    VERCEL_ENV: 'preview',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    STRIPE_API_BASE: sandbox.url,
    STRIPE_SECRET_KEY: 'sk_test_bench',
  };
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const query = async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> =>
    (await client.query<R>(sql, params)).rows;
  const tempParent = mkdtempSync(join(tmpdir(), 'vercel-cold-'));
  const started = performance.now();
  try {
    const packageCosts: Awaited<ReturnType<typeof measurePackageImport>>[] = [];
    if (!opts['skip-packages']) {
      for (const name of HEAVY_PACKAGES)
        packageCosts.push(await measurePackageImport(name, { nodeBinary, root, runs: packageRuns }));
    }
    const costOf = new Map(packageCosts.map((p) => [p.name, p.medianImportMs]));

    const results: FunctionColdStart[] = [];
    for (const fn of functions) {
      const copy = copyFunction(fn, root, tempParent);
      const handler = fn.config.handler ?? '';
      const errors: string[] = [];
      // One untimed probe for the exports, then the timed runs.
      const probe = await runFunctionProcess({ funcDir: copy, handler, calls: [], nodeBinary, env, trackPackages: true });
      const found = findExpectation(table, fn.route);
      const method = pickMethod(probe.exports, found?.entry ?? {}) ?? 'GET';
      const raw = found?.entry[method] ?? found?.entry['*'];
      const expectation: MethodExpectation | undefined = typeof raw === 'number' ? { status: raw } : raw;
      // Built per run: a builder may hand out fresh idempotency keys.
      const buildCall = async (): Promise<PlannedCall> => {
        let spec: RequestSpec = {};
        if (typeof expectation?.request === 'function') {
          spec = await expectation.request({
            route: fn.route,
            method,
            defaultPath: defaultPathFor(fn.route),
            databaseUrl,
            env,
            query,
          });
        } else if (expectation?.request) spec = expectation.request;
        const headers: Record<string, string> = { ...(spec.headers ?? {}) };
        let body: string | undefined;
        if (spec.body !== undefined) {
          body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
          if (typeof spec.body !== 'string') headers['content-type'] ??= 'application/json';
        }
        return {
          method,
          url: spec.url ?? new URL(spec.path ?? defaultPathFor(fn.route), 'http://localhost:3000').toString(),
          headers,
          ...(body === undefined ? {} : { body }),
        };
      };
      if (probe.importError) errors.push(`import failed: ${probe.importError.message.split('\n')[0]}`);

      const importMs: number[] = [];
      const firstAnswerMs: number[] = [];
      const processMs: number[] = [];
      const importCpuMs: number[] = [];
      const firstAnswerCpuMs: number[] = [];
      let status: number | undefined;
      for (let i = 0; i < runs && !probe.importError; i++) {
        let call: PlannedCall;
        try {
          call = await buildCall();
        } catch (error) {
          errors.push(`request builder failed: ${error instanceof Error ? error.message : String(error)}`);
          break;
        }
        const run = await runFunctionProcess({ funcDir: copy, handler, calls: [call], nodeBinary, env, timeoutMs: 30_000 });
        const answer = run.calls[0];
        if (run.importError || !answer || answer.error || answer.sinceImportStartMs === undefined) {
          errors.push(run.importError?.message.split('\n')[0] ?? answer?.error?.split('\n')[0] ?? 'no answer');
          continue;
        }
        status = answer.status;
        importMs.push(round(run.importMs ?? 0));
        firstAnswerMs.push(round(answer.sinceImportStartMs));
        processMs.push(round(run.processMs));
        importCpuMs.push(round(run.importCpuMs ?? 0));
        firstAnswerCpuMs.push(round(answer.cpuSinceImportStartMs ?? 0));
      }
      const bytes = dirBytes(fn.dir);
      const packages = shippedPackages(fn.dir);
      const medianFirstAnswerMs = median(firstAnswerMs);
      results.push({
        route: fn.route,
        handler,
        bytes,
        packages,
        loadedAtImport: probe.loadedPackages,
        method,
        status,
        expectedStatus: expectation ? (Array.isArray(expectation.status) ? expectation.status : [expectation.status]) : [],
        runs: firstAnswerMs.length,
        medianImportMs: median(importMs),
        medianFirstAnswerMs,
        medianProcessMs: median(processMs),
        medianImportCpuMs: median(importCpuMs),
        medianFirstAnswerCpuMs: median(firstAnswerCpuMs),
        p90FirstAnswerMs: percentile(
          [...firstAnswerMs].sort((a, b) => a - b),
          90,
        ),
        importMs,
        firstAnswerMs,
        errors: [...new Set(errors)],
        meetsGoals: errors.length === 0 && medianFirstAnswerMs < GOAL_FIRST_ANSWER_MS && bytes <= GOAL_FUNC_BYTES,
        heaviestImports: (probe.loadedPackages ?? packages)
          .filter((p) => costOf.has(p))
          .map((name) => ({ name, medianImportMs: costOf.get(name) ?? 0 }))
          .sort((a, b) => b.medianImportMs - a.medianImportMs),
      });
      rmSync(dirname(copy), { recursive: true, force: true });
    }

    const misses = results.flatMap((r) => [
      ...(r.errors.length > 0 ? [`${r.route}: errors (${r.errors[0]})`] : []),
      ...(r.medianFirstAnswerMs >= GOAL_FIRST_ANSWER_MS
        ? [`${r.route}: first answer ${r.medianFirstAnswerMs} ms >= ${GOAL_FIRST_ANSWER_MS} ms`]
        : []),
      ...(r.bytes > GOAL_FUNC_BYTES ? [`${r.route}: ${(r.bytes / 1_048_576).toFixed(2)} MB > 15 MB`] : []),
    ]);
    return {
      nodeBinary,
      nodeVersion: (await runVersion(nodeBinary)) ?? 'unknown',
      runsPerFunction: runs,
      bundled: results.every((r) => r.handler.endsWith('.bundle.mjs')),
      loadAverage: loadavg().map(round),
      goals: { firstAnswerMs: GOAL_FIRST_ANSWER_MS, funcBytes: GOAL_FUNC_BYTES },
      allMeetGoals: misses.length === 0,
      misses,
      packages: [...packageCosts].sort((a, b) => (b.medianImportMs || 0) - (a.medianImportMs || 0)),
      functions: results,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(tempParent, { recursive: true, force: true });
    await client.end();
    await sandbox.close();
    if (environment) await environment.close();
  }
}

async function runVersion(nodeBinary: string): Promise<string | undefined> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(nodeBinary, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
