/**
 * `npm run build:vercel` — the offline `vercel build` of this repo, exactly as Vercel would build it.
 *
 * What it does
 *  1. Writes `.vercel/project.json` if missing (`.vercel/` is git-ignored; no login, no network needed).
 *  2. Installs, on demand, into a git-ignored cache (default `node_modules/.cache/vercel-build`, env
 *     VERCEL_BUILD_CACHE overrides) the pinned CLI `vercel@58.10.0` (61+ does not install here) and, unless
 *     this process already runs Node 22, the Node 22 binary from the npm package `node-<platform>-<arch>`.
 *     Plain `npm ci` stays lean: neither is a project dependency.
 *  3. Runs `vercel build --standalone` UNDER NODE 22 with VERCEL_INSTALL_COMPLETED=1 (the builder would
 *     otherwise run `npm install` in the shared tree) and VERCEL_TELEMETRY_DISABLED=1.
 *     Why Node 22: @vercel/nft resolves package `exports` with the Node that runs the build. Built on
 *     Node 20, `async-function/require.mjs` (the `module-sync` target reached via stripe and the PayPal SDK)
 *     is left out and the function dies at import on Node 22 (Vercel's runtime). Vercel builds on 22.
 *     Why --standalone: includeFiles land inside each .func (no `filePathMap` pointing back into the repo),
 *     so every .func folder is self-contained and can be smoke-tested from a copy.
 *  4. Checks the output and exits non-zero with a one-line reason on the first problem found.
 *
 * Fails on (decided from the lab build, see notes/vercel.md):
 *  - CLI exit code != 0 (e.g. `functions` pattern matching no file, memory > 10240, engines node 20.x).
 *  - Any `error TS<n>` line: `vercel build` prints TypeScript errors and still says "Build Completed";
 *    TS2835 (relative import without `.js`) compiles to an import that fails at run time.
 *  - Any CLI warning line not in IGNORED_WARNINGS. Known ones that matter:
 *      "Due to "engines": ... the Node.js Version defined in your Project Settings ... will not apply"
 *      (engines vs nodeVersion conflict), "Detected "engines": ... will automatically upgrade" (unpinned
 *      major), "Due to `builds` existing in your configuration file ..." (functions config ignored).
 *    Ignored: "WARNING! Build not running on Vercel. System environment variables will not be available."
 *  - A function whose `.vc-config.json` runtime is not EXPECTED_RUNTIME (nodejs22.x), whose launcherType
 *    is not Nodejs, or whose handler file is missing.
 *  - A vercel.json top-level key Vercel does not know (build accepts it silently; deploy rejects it).
 *  - A cron whose path is not a built function (Vercel would call a 404 every time).
 *  - Static output containing anything that is not under public/, or no public/ at all
 *    (Vercel then serves the whole repo root: sources, tests, migrations).
 *
 *  5. Bundles every function (scripts/bundle-functions.ts: one ES module per function, packages that are not
 *     pure ESM kept as traced node_modules) and checks the output again. `--no-bundle` keeps the plain
 *     `vercel build` output (to compare cold starts).
 *
 * Usage: `npx tsx scripts/build-vercel.ts [--root DIR] [--local-config FILE] [--no-static-check] [--no-bundle] [--prod]`
 * (--local-config: build with another vercel.json, to try a change without editing the real one;
 *  --prod: `vercel build --prod`, for `vercel deploy --prebuilt --prod`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkStaticOutput, dirBytes, listFunctionDirs } from './lib/vercel-output.js';
import { BuildFailure, defaultCacheDir, ensureVercelTools, REPO_ROOT } from './lib/vercel-toolchain.js';

export const EXPECTED_RUNTIME = 'nodejs22.x';
export const DEFAULT_PROJECT_JSON = {
  projectId: 'prj_local',
  orgId: 'team_local',
  settings: { framework: null, nodeVersion: '22.x' },
};

export const IGNORED_WARNINGS: RegExp[] = [/^WARNING! Build not running on Vercel\./];

/**
 * Top-level vercel.json keys Vercel accepts (its docs' property table + the CLI's own schema). The local
 * build ignores unknown keys; a deploy rejects them. A legit new key: add it here.
 */
export const KNOWN_VERCEL_JSON_KEYS = new Set([
  '$schema',
  'alias',
  'bunVersion',
  'buildCommand',
  'builds',
  'cleanUrls',
  'crons',
  'devCommand',
  'env',
  'fluid',
  'framework',
  'functions',
  'git',
  'github',
  'headers',
  'ignoreCommand',
  'images',
  'installCommand',
  'name',
  'outputDirectory',
  'public',
  'redirects',
  'regions',
  'functionFailoverRegions',
  'rewrites',
  'routes',
  'scope',
  'trailingSlash',
  'version',
  'build',
  'proxy',
  'services',
  'experimentalServices',
  'experimentalServiceGroups',
  'experimentalServicesV2',
  'passiveRegions',
  'wildcard',
]);

export function writeProjectJsonIfMissing(root: string): boolean {
  const file = join(root, '.vercel', 'project.json');
  if (existsSync(file)) {
    // A `vercel link`ed project.json without settings makes the CLI pull them: login and network.
    const existing = JSON.parse(readFileSync(file, 'utf8')) as { settings?: unknown };
    if (typeof existing.settings !== 'object' || existing.settings === null) {
      throw new BuildFailure(`${file} has no "settings": vercel build would pull them (login, network); delete the file`);
    }
    return false;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(DEFAULT_PROJECT_JSON, null, 2)}\n`);
  return true;
}

/** Lines of CLI output that make the build fail (TS errors, warnings that matter). */
export function problemLines(output: string): string[] {
  const problems: string[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (/\berror TS\d+:/.test(line)) {
      problems.push(line);
      continue;
    }
    if (/^(warn(ing)?\b|WARN\b|Warning:|WARNING!)/i.test(line) && !IGNORED_WARNINGS.some((re) => re.test(line))) {
      problems.push(line);
    }
  }
  return problems;
}

export interface OutputCheck {
  functions: Array<{ route: string; runtime: string; handler: string; bytes: number }>;
  problems: string[];
}

/** Checks on the written output that `vercel build` itself does not make. */
export function checkBuildOutput(
  root: string,
  outputDir = join(root, '.vercel', 'output'),
  vercelJsonFile = join(root, 'vercel.json'),
): OutputCheck {
  const problems: string[] = [];
  const functions: OutputCheck['functions'] = [];
  for (const { route, dir } of listFunctionDirs(outputDir)) {
    const configFile = join(dir, '.vc-config.json');
    if (!existsSync(configFile)) {
      problems.push(`${route}: no .vc-config.json`);
      continue;
    }
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { runtime?: string; handler?: string; launcherType?: string };
    const runtime = config.runtime ?? '';
    const handler = config.handler ?? '';
    if (runtime !== EXPECTED_RUNTIME) problems.push(`${route}: runtime ${runtime || '(none)'} (expected ${EXPECTED_RUNTIME})`);
    if (config.launcherType !== 'Nodejs')
      problems.push(`${route}: launcherType ${config.launcherType ?? '(none)'} (expected Nodejs)`);
    if (!handler || !existsSync(join(dir, handler))) problems.push(`${route}: handler file ${handler || '(none)'} missing`);
    functions.push({ route, runtime, handler, bytes: dirBytes(dir) });
  }
  if (functions.length === 0) problems.push('no functions in the build output');

  if (existsSync(vercelJsonFile)) {
    const vercelJson = JSON.parse(readFileSync(vercelJsonFile, 'utf8')) as Record<string, unknown>;
    for (const key of Object.keys(vercelJson)) {
      if (!KNOWN_VERCEL_JSON_KEYS.has(key)) problems.push(`vercel.json: unknown top-level key "${key}"`);
    }
    const crons = Array.isArray(vercelJson.crons) ? (vercelJson.crons as Array<{ path?: string }>) : [];
    const routes = new Set(functions.map((f) => `/${f.route}`));
    for (const cron of crons) {
      const path = (cron.path ?? '').split('?')[0] ?? '';
      if (!routes.has(path)) problems.push(`vercel.json: cron path ${cron.path} is not a built function`);
    }
  }
  return { functions, problems };
}

export interface BuildOptions {
  root?: string;
  cacheDir?: string;
  /** Check .vercel/output/static against public/ (default true). */
  staticCheck?: boolean;
  /** Another vercel.json to build with (`vercel build --local-config`), e.g. to try a change. */
  localConfig?: string;
  /** Echo CLI output as it comes (default true). */
  echo?: boolean;
  /** Bundle each function after `vercel build` (scripts/bundle-functions.ts; default true). */
  bundle?: boolean;
  /** `vercel build --prod`: build for the Production environment (what `vercel deploy --prebuilt --prod` needs). */
  prod?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  ok: boolean;
  /** One-line reason when not ok. */
  reason?: string;
  problems: string[];
  durationMs: number;
  cliExitCode: number | null;
  functions: OutputCheck['functions'];
  output: string;
}

export async function buildVercel(opts: BuildOptions = {}): Promise<BuildResult> {
  const root = resolve(opts.root ?? REPO_ROOT);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const echo = opts.echo ?? true;
  if (writeProjectJsonIfMissing(root)) log('build-vercel: wrote .vercel/project.json (local, git-ignored)');
  // The buyer pages' scripts (public/assets/*.js) are generated, not committed: build them into public/ first.
  if (existsSync(join(root, 'web'))) {
    const { buildPages } = await import('./build-pages.js');
    log(`build-vercel: pages ${(await buildPages({ root })).join(', ')}`);
  }
  const tools = ensureVercelTools({ cacheDir: opts.cacheDir ?? defaultCacheDir(), log });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(tools.nodeBin)}${delimiter}${process.env.PATH ?? ''}`,
    VERCEL_INSTALL_COMPLETED: '1',
    VERCEL_TELEMETRY_DISABLED: '1',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
  const started = performance.now();
  let output = '';
  const cliExitCode = await new Promise<number | null>((resolveExit, reject) => {
    const cliArgs = [tools.vercelBin, 'build', '--standalone'];
    if (opts.prod) cliArgs.push('--prod');
    if (opts.localConfig) cliArgs.push('--local-config', resolve(opts.localConfig));
    const child = spawn(tools.nodeBin, cliArgs, {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const take = (chunk: Buffer, to: NodeJS.WriteStream) => {
      output += chunk.toString('utf8');
      if (echo) to.write(chunk);
    };
    child.stdout.on('data', (chunk: Buffer) => take(chunk, process.stdout));
    child.stderr.on('data', (chunk: Buffer) => take(chunk, process.stderr));
    child.on('error', reject);
    child.on('close', (code) => resolveExit(code));
  });
  const durationMs = Math.round(performance.now() - started);
  writeFileSync(join(root, '.vercel', 'build.log'), output);

  const problems: string[] = [];
  let functions: OutputCheck['functions'] = [];
  if (cliExitCode !== 0) {
    const errorLine =
      output
        .split('\n')
        .map((l) => l.trim())
        .find((l) => /^Error:/.test(l)) ?? `vercel build exited with ${cliExitCode}`;
    problems.push(errorLine);
  } else {
    problems.push(...problemLines(output));
    const outputDir = join(root, '.vercel', 'output');
    const check = () =>
      checkBuildOutput(root, outputDir, opts.localConfig ? resolve(opts.localConfig) : join(root, 'vercel.json'));
    const checked = check();
    functions = checked.functions;
    problems.push(...checked.problems);
    if (checked.problems.length === 0 && (opts.bundle ?? true)) {
      const { bundleFunctionOutput, BundleFailure } = await import('./bundle-functions.js');
      try {
        await bundleFunctionOutput(listFunctionDirs(outputDir), log);
        // Again on the bundled output: the handlers .vc-config.json now names must exist.
        const rechecked = check();
        functions = rechecked.functions;
        problems.push(...rechecked.problems);
      } catch (error) {
        if (!(error instanceof BundleFailure)) throw error;
        problems.push(`bundle: ${error.message}`);
      }
    }
    if (opts.staticCheck ?? true) {
      const staticResult = checkStaticOutput(join(root, '.vercel', 'output'), join(root, 'public'));
      problems.push(...staticResult.problems);
    }
  }
  const ok = problems.length === 0;
  return {
    ok,
    ...(ok ? {} : { reason: problems.length === 1 ? problems[0] : `${problems[0]} (+${problems.length - 1} more)` }),
    problems,
    durationMs,
    cliExitCode,
    functions,
    output,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rootIndex = args.indexOf('--root');
  const root = rootIndex >= 0 ? args[rootIndex + 1] : undefined;
  const configIndex = args.indexOf('--local-config');
  const localConfig = configIndex >= 0 ? args[configIndex + 1] : undefined;
  const result = await buildVercel({
    ...(root ? { root } : {}),
    ...(localConfig ? { localConfig } : {}),
    staticCheck: !args.includes('--no-static-check'),
    bundle: !args.includes('--no-bundle'),
    prod: args.includes('--prod'),
  });
  for (const f of result.functions) {
    process.stderr.write(`build-vercel: ${f.route} ${(f.bytes / 1_048_576).toFixed(2)} MB ${f.runtime}\n`);
  }
  if (!result.ok) {
    for (const p of result.problems) process.stderr.write(`build-vercel: problem: ${p}\n`);
    process.stderr.write(`build-vercel: FAILED: ${result.reason}\n`);
    process.exit(1);
  }
  process.stderr.write(`build-vercel: ok, ${result.functions.length} functions in ${(result.durationMs / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`build-vercel: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
