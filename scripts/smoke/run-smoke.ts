import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import type { PayPalSandbox } from '../../sandbox/paypal-sandbox.js';
import { REPO_ROOT } from '../lib/vercel-toolchain.js';
import { checkStaticOutput, copyFunction, listFunctions, type StaticCheckResult } from '../lib/vercel-output.js';
import { EXPECTATIONS, NO_DATABASE_ROUTES, SMOKE_ENV } from './expectations.js';
import { bodyMatches, defaultPathFor, findExpectation, normalise, plannedCall } from './plan.js';
import { type PlannedCall, runFunctionProcess } from './runner.js';
import { type ExpectationTable, HTTP_METHODS, type HttpMethod, type RequestBuilder, type RequestSpec } from './types.js';

/** The smoke run: every built function, alone, in a fresh Node 22 process, each call checked against the table. */

export interface CallResult {
  method: string;
  /** How problems name the call: the method, plus `(also: <note>)` for an extra call. */
  label: string;
  /** An `also` call (made after the one-per-method calls). */
  extra?: boolean;
  note?: string;
  expected: number[];
  /** The expected body text (a RegExp as `/source/flags`). */
  bodyIncludes?: string;
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
  /** With a `wsProxy` option: WebSocket tunnels the function's process opened through it. */
  tunnels?: number;
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
  /** Base env of every function process over SMOKE_ENV (default process.env). Its DATABASE_DRIVER is the one reported. */
  env?: Record<string, string | undefined>;
  /** The database the request builders query, with pg (default: `env.DATABASE_URL`). */
  databaseUrl?: string;
  /**
   * The WebSocket proxy the functions' vercel-postgres driver goes through: a function whose process opens no
   * tunnel through it fails (it did not run on that driver, or never reached the database).
   */
  wsProxy?: { readonly tunnelsOpened: number };
  /** Node binary for the function processes (default: cached Node 22 from build-vercel, else this node). */
  nodeBinary?: string;
  /** Per function process (default 30 s). */
  timeoutMs?: number;
  /** Only these routes. */
  only?: string[];
  /** The local PayPal sandbox the functions are pointed at (request builders use it to sign PayPal webhooks). */
  paypalSandbox?: PayPalSandbox;
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
    const { ensureNode22 } = await import('../lib/vercel-toolchain.js');
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
  const databaseUrl = opts.databaseUrl ?? baseEnv.DATABASE_URL;
  const driver = { ...SMOKE_ENV, ...baseEnv }.DATABASE_DRIVER || 'pg';
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
      // Then the `also` calls, once each, in table order.
      interface Plan {
        method: HttpMethod;
        label: string;
        expected: number[];
        bodyIncludes?: string | RegExp;
        /** An `also` call. */
        extra?: boolean;
        note?: string;
      }
      const planned: Plan[] = [];
      const calls: PlannedCall[] = [];
      const builderErrors = new Map<HttpMethod, string>();
      const extraProblems: string[] = [];
      let extraEnv: Record<string, string> = {};
      const defaultPath = defaultPathFor(fn.route);
      const build = async (method: HttpMethod, request: RequestBuilder | undefined): Promise<RequestSpec> =>
        typeof request === 'function'
          ? await request({ route: fn.route, method, defaultPath, databaseUrl, env, query, paypalSandbox: opts.paypalSandbox })
          : (request ?? {});
      const statuses = (status: number | number[]) => (Array.isArray(status) ? status : [status]);
      for (const method of HTTP_METHODS) {
        const raw = found?.entry[method] ?? found?.entry['*'];
        if (raw === undefined) continue;
        const expectation = normalise(raw);
        let spec: RequestSpec;
        try {
          spec = await build(method, expectation.request);
        } catch (error) {
          builderErrors.set(method, error instanceof Error ? error.message : String(error));
          continue;
        }
        calls.push(plannedCall(method, spec, defaultPath));
        planned.push({
          method,
          label: method,
          expected: statuses(expectation.status),
          ...(expectation.bodyIncludes === undefined ? {} : { bodyIncludes: expectation.bodyIncludes }),
        });
        extraEnv = { ...extraEnv, ...(expectation.env ?? {}) };
      }
      for (const key of [...HTTP_METHODS, '*'] as const) {
        const raw = found?.entry[key];
        if (raw === undefined || typeof raw === 'number') continue;
        for (const [index, extra] of (raw.also ?? []).entries()) {
          const method = extra.method ?? (key === '*' ? undefined : key);
          const label = `${method ?? key} (also: ${extra.note ?? `#${index + 1}`})`;
          if (!method) {
            extraProblems.push(`${label}: an \`also\` call under * needs a method`);
            continue;
          }
          let spec: RequestSpec;
          try {
            spec = await build(method, extra.request);
          } catch (error) {
            extraProblems.push(`${label}: request builder failed: ${error instanceof Error ? error.message : String(error)}`);
            continue;
          }
          calls.push(plannedCall(method, spec, defaultPath));
          planned.push({
            method,
            label,
            expected: statuses(extra.status),
            ...(extra.bodyIncludes === undefined ? {} : { bodyIncludes: extra.bodyIncludes }),
            extra: true,
            ...(extra.note === undefined ? {} : { note: extra.note }),
          });
        }
      }

      // One fresh process on a lone copy of the folder: import (a failure here names the function), then the calls.
      const copy = copyFunction(fn, root, tempParent);
      const tunnelsBefore = opts.wsProxy?.tunnelsOpened ?? 0;
      const run = await runFunctionProcess({
        funcDir: copy,
        handler,
        calls,
        nodeBinary,
        env: { ...env, ...extraEnv },
        timeoutMs: opts.timeoutMs,
      });
      rmSync(dirname(copy), { recursive: true, force: true });
      if (opts.wsProxy) result.tunnels = opts.wsProxy.tunnelsOpened - tunnelsBefore;
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
      for (const problem of extraProblems) fail(problem);
      if (run.timedOut) fail(`timed out after ${opts.timeoutMs ?? 30_000} ms`);
      planned.forEach((plan, index) => {
        if (!exported.includes(plan.method)) {
          if (plan.extra) fail(`${plan.label}: ${fn.route} does not export ${plan.method}`);
          return;
        }
        const got = run.calls[index];
        const call: CallResult = { method: plan.method, label: plan.label, expected: plan.expected, ok: false };
        if (plan.extra) call.extra = true;
        if (plan.note !== undefined) call.note = plan.note;
        if (plan.bodyIncludes !== undefined) call.bodyIncludes = String(plan.bodyIncludes);
        if (!got) call.error = run.timedOut ? 'timed out' : `no answer (process exit ${run.exitCode})`;
        else {
          if (got.status !== undefined) call.status = got.status;
          if (got.ms !== undefined) call.ms = got.ms;
          if (got.error) call.error = got.error.split('\n')[0];
          if (got.body) call.body = got.body;
        }
        const statusOk = call.status !== undefined && plan.expected.includes(call.status);
        const bodyOk = plan.bodyIncludes === undefined || bodyMatches(call.body ?? '', plan.bodyIncludes);
        call.ok = statusOk && bodyOk;
        result.calls.push(call);
        if (!statusOk) {
          const detail = call.error
            ? `threw ${call.error}`
            : `got ${call.status}${call.body ? ` ${call.body.slice(0, 160)}` : ''}`;
          fail(`${plan.label}: expected ${plan.expected.join(' or ')}, ${detail}`);
        } else if (!bodyOk) {
          const shown = JSON.stringify(call.bodyIncludes);
          fail(
            `${plan.label}: expected a body with ${shown}, got ${call.status} ${(call.body ?? '').slice(0, 240) || '(empty body)'}`,
          );
        }
      });
      if (result.tunnels === 0 && !NO_DATABASE_ROUTES.has(fn.route)) {
        fail(`no connection through the WebSocket proxy: not on the ${driver} driver, or never reached the database`);
      }
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
    const calls = r.calls.map((c) => `${c.extra ? '+' : ''}${c.method} ${c.status ?? 'ERR'}${c.ok ? '' : '!'}`).join(', ');
    const tunnels = r.tunnels === undefined ? '' : `, ${r.tunnels} ws tunnel${r.tunnels === 1 ? '' : 's'}`;
    log(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.route}${r.importMs !== undefined ? ` (import ${Math.round(r.importMs)} ms${tunnels})` : ''}${calls ? `: ${calls}` : ''}`,
    );
  }
  const failed = results.filter((r) => !r.ok).length;
  const ok = problems.length === 0;
  const summary = ok
    ? `vercel smoke: all ${results.length} functions answered as expected on the ${driver} driver; static output = public/`
    : `vercel smoke: FAILED (${failed} of ${results.length} functions failing${staticResult && !staticResult.ok ? ', static output wrong' : ''}) on the ${driver} driver`;
  return { ok, functions: results, ...(staticResult ? { static: staticResult } : {}), problems, summary };
}
