import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One function in one fresh Node process: a plain-ESM runner imports the handler and makes the planned calls. */

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

/** Characters of each response body the runner keeps (what `bodyIncludes` is checked against). */
export const BODY_LIMIT = 2_000;

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
    out.calls.push({ method: call.method, status: response.status, ms: now - t, sinceImportStartMs: now - started, cpuSinceImportStartMs: cpuMs(), body: text.slice(0, ${BODY_LIMIT}) });
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
