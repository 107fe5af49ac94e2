/**
 * Step 2 of `npm run build:vercel`: turns each function `vercel build` wrote into one ES module (plus lazy chunks).
 *
 * Why: `@vercel/node` compiles every file on its own and ships node_modules as traced files, so a cold start
 * loads hundreds of small modules (the Stripe SDK alone is 218 files, zod ~90, our lib/ ~40 per function).
 * Node's module loader, not our code, was most of every function's first answer (see README, Cold start).
 *
 * What it does, per `.func` folder (identical folders the CLI symlinked are done once):
 *  - esbuild bundles the handler `vercel build` compiled (`.vc-config.json` `handler`) with our own code and
 *    the pure-ESM packages in INLINE_PACKAGES. Every other package stays an ordinary `import` resolved at run
 *    time from the folder's traced node_modules: CommonJS packages (pg, the PayPal SDK, @vercel/functions, ...)
 *    keep Node's own CommonJS interop instead of a bundler's imitation of it.
 *  - `import()` stays lazy (code splitting): a function loads Stripe or the PayPal SDK on first use only.
 *  - Writes `<handler>.bundle.mjs` + `_chunks/` beside the handler, points `.vc-config.json` at it, then
 *    deletes what the bundle replaced: the files esbuild read (metafile `inputs`) outside node_modules, with
 *    their `.map` siblings, and inlined packages nothing else needs. A bundle that still reached for one of
 *    them fails the smoke test instead of passing by accident. Everything else stays: non-JS files
 *    (migrations/*.sql, read by /api/health) and any `.js` the bundle did not take in (e.g. vercel.json
 *    `includeFiles`).
 *  - Source maps: linked, chained through the compiled files' maps back to the TypeScript sources.
 * Fails (BundleFailure naming the route) before touching the folder on:
 *  - any esbuild error, e.g. an import that does not resolve;
 *  - any esbuild warning not in ALLOWED_WARNINGS, including the ones PROMOTED_TO_WARNING (an `import()` or
 *    `require()` esbuild cannot follow: the file it would need is deleted with the rest);
 *  - an inlined package with dependencies of its own (INLINE_PACKAGES);
 *  - a package the bundle imports at run time that is not in the folder's node_modules.
 *
 * Deploy what was built and smoke-tested: `vercel deploy --prebuilt` (README, Deploying to Vercel).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { BuildResult, LogLevel, Message, Plugin } from 'esbuild';

/**
 * Pure ES module packages that are safe and worth inlining (big module graphs, no CommonJS, no file reads).
 * Only packages without `dependencies` of their own (stripe 23.1.0 and zod 4.6.7 have none): the package
 * folder is deleted once inlined, nested node_modules included, and an import the inlined code makes of a
 * dependency would be left external, resolved from the function's top-level node_modules at run time.
 * bundleFunction refuses a package that has some.
 */
export const INLINE_PACKAGES = ['stripe', 'zod'] as const;

/**
 * esbuild messages it only logs at debug level by default, raised to warnings so that they fail the function:
 * an `import()` / `require()` whose argument is not a string literal, or `require` called indirectly, stays a
 * run-time load esbuild did not follow, of a file the bundle step then deletes (or a package it never checked).
 */
export const PROMOTED_TO_WARNING = ['unsupported-dynamic-import', 'unsupported-require-call', 'indirect-require'] as const;

/** An esbuild warning that does not fail the bundle. Every given field must match; `why` is mandatory. */
export interface AllowedWarning {
  /** esbuild's message id, e.g. `unsupported-dynamic-import`. */
  id?: string;
  text?: RegExp;
  /** The file it is in, relative to the .func folder (e.g. `node_modules/zod/v4/core/util.js`). */
  file?: RegExp;
  why: string;
}

/**
 * esbuild warnings known to be harmless. Empty on purpose: the real build (`npm run build:vercel`, esbuild
 * 0.27.0, stripe 23.1.0, zod 4.6.7, all 18 functions) emits no warning at all, PROMOTED_TO_WARNING included.
 * Add an entry only for a warning shown harmless in every function it appears in (e.g. a non-literal
 * `import()` in an inlined package on a code path none of our functions reaches), and say why in `why`.
 */
export const ALLOWED_WARNINGS: readonly AllowedWarning[] = [];

export interface BundleOptions {
  /** Default ALLOWED_WARNINGS. */
  allowedWarnings?: readonly AllowedWarning[];
}

export class BundleFailure extends Error {
  override name = 'BundleFailure';
}

export interface BundledFunction {
  route: string;
  handler: string;
  /** Files written (entry + chunks), relative to the .func folder. */
  outputs: string[];
  /** Files and package folders removed because the bundle holds them. */
  removed: string[];
  durationMs: number;
}

interface VcConfig {
  handler?: string;
  [key: string]: unknown;
}

const packageOf = (specifier: string): string | undefined => /^(@[^/]+\/[^/]+|[^./][^/]*)/.exec(specifier)?.[1] ?? undefined;

/** Path segments of a file relative to the .func folder. */
const segments = (file: string): string[] => file.split(/[\\/]/);

/**
 * The files esbuild read (metafile `inputs`) outside node_modules, with their `.map` siblings: our compiled
 * api/ and lib/ files, which the bundle now holds. Absolute paths, inside funcDir only.
 */
function bundledSources(funcDir: string, inputs: string[], keep: Set<string>): string[] {
  const found: string[] = [];
  for (const input of inputs) {
    if (segments(input).includes('node_modules')) continue;
    const abs = join(funcDir, input);
    const rel = relative(funcDir, abs);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    for (const file of [abs, `${abs}.map`]) if (!keep.has(file) && existsSync(file)) found.push(file);
  }
  return [...new Set(found)];
}

/** A package's manifest fields that list packages it installs next to or under itself. */
function ownDependencies(manifestFile: string): string[] {
  const pkg = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, Record<string, string> | undefined>;
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
}

const describeWarning = (w: Message): string => {
  const where = w.location ? ` (${w.location.file}:${w.location.line}:${w.location.column})` : '';
  return `${w.text}${w.id ? ` [${w.id}]` : ''}${where}`;
};

const isAllowed = (w: Message, allowed: readonly AllowedWarning[]): boolean =>
  allowed.some(
    (a) =>
      (a.id === undefined || a.id === w.id) &&
      (a.text === undefined || a.text.test(w.text)) &&
      (a.file === undefined || (w.location !== null && a.file.test(w.location.file))),
  );

/** Removes folders left empty (outside node_modules) after the compiled files went. */
function pruneEmptyDirs(dir: string, root = dir): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== 'node_modules') pruneEmptyDirs(join(dir, entry.name), root);
  }
  if (dir !== root && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}

/** Inlined packages no remaining package in the folder depends on (checked through their package.json). */
function removableInlined(funcDir: string): string[] {
  const modules = join(funcDir, 'node_modules');
  if (!existsSync(modules)) return [];
  const present = INLINE_PACKAGES.filter((name) => existsSync(join(modules, name)));
  if (present.length === 0) return [];
  const neededByOthers = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const abs = join(dir, entry.name);
      if (entry.name.startsWith('@') && entry.isDirectory()) {
        visit(abs);
        continue;
      }
      const name = relative(modules, abs).split(sep).join('/');
      if ((INLINE_PACKAGES as readonly string[]).includes(name)) continue;
      const manifest = join(abs, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, Record<string, string> | undefined>;
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
        for (const dep of Object.keys(pkg[field] ?? {})) neededByOthers.add(dep);
      if (existsSync(join(abs, 'node_modules'))) visit(join(abs, 'node_modules'));
    }
  };
  visit(modules);
  return present.filter((name) => !neededByOthers.has(name)).map((name) => join(modules, name));
}

export async function bundleFunction(route: string, funcDir: string, opts: BundleOptions = {}): Promise<BundledFunction> {
  const started = performance.now();
  const configFile = join(funcDir, '.vc-config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as VcConfig;
  const handler = config.handler;
  if (!handler || !existsSync(join(funcDir, handler)))
    throw new BundleFailure(`${route}: handler ${handler ?? '(none)'} missing`);
  if (handler.endsWith('.bundle.mjs')) throw new BundleFailure(`${route}: already bundled (${handler})`);

  // An inlined package's folder goes once bundled, nested node_modules included: only packages without
  // dependencies of their own can be inlined that way.
  for (const pkg of INLINE_PACKAGES) {
    const manifest = join(funcDir, 'node_modules', pkg, 'package.json');
    if (!existsSync(manifest)) continue;
    const deps = ownDependencies(manifest);
    if (deps.length > 0)
      throw new BundleFailure(
        `${route}: cannot inline ${pkg}: its package.json lists dependencies (${deps.join(', ')}), which deleting its folder would break; drop ${pkg} from INLINE_PACKAGES (scripts/bundle-functions.ts) or handle its dependencies`,
      );
  }

  const entry = join(funcDir, handler);
  const outdir = dirname(entry);
  const name = `${basename(handler).replace(/\.[cm]?js$/, '')}.bundle`;
  const inline = new Set<string>(INLINE_PACKAGES);
  const { build } = await import('esbuild');
  const logOverride: Record<string, LogLevel> = Object.fromEntries(PROMOTED_TO_WARNING.map((id) => [id, 'warning']));
  const keepPackagesExternal: Plugin = {
    name: 'keep-packages-external',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        const pkg = packageOf(args.path);
        if (pkg && inline.has(pkg)) return undefined;
        // Inside an inlined package: its own deep imports resolve normally (handled above).
        return { path: args.path, external: true };
      });
    },
  };
  let result: BuildResult<{ write: false; metafile: true }>;
  try {
    result = await build({
      entryPoints: { [name]: entry },
      absWorkingDir: funcDir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      outdir,
      outExtension: { '.js': '.mjs' },
      chunkNames: '_chunks/[name]-[hash]',
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      // Nothing is written until every check below passed: a failing function leaves its folder as it was.
      write: false,
      logLevel: 'silent',
      logOverride,
      plugins: [keepPackagesExternal],
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new BundleFailure(
      `${route}: ${first ? `${first.text}${where}` : error instanceof Error ? error.message : String(error)}`,
    );
  }

  const warnings = result.warnings.filter((w) => !isAllowed(w, opts.allowedWarnings ?? ALLOWED_WARNINGS));
  if (warnings.length > 0) throw new BundleFailure(`${route}: esbuild warning: ${warnings.map(describeWarning).join('; ')}`);

  const outputs = Object.keys(result.metafile.outputs).map((file) => relative(funcDir, join(funcDir, file)).split(sep).join('/'));
  const keep = new Set(outputs.map((file) => join(funcDir, file)));
  const inlinedToRemove = removableInlined(funcDir);
  // Every package the bundle still imports at run time must be in the folder it runs from (and not one of
  // the inlined packages about to go). Our own files are never external: esbuild took them in or failed.
  const gone = new Set(inlinedToRemove.map((dir) => relative(join(funcDir, 'node_modules'), dir).split(sep).join('/')));
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || isBuiltin(imported.path)) continue;
      const pkg = packageOf(imported.path);
      if (!pkg) continue;
      if (gone.has(pkg) || !existsSync(join(funcDir, 'node_modules', pkg, 'package.json')))
        throw new BundleFailure(
          `${route}: ${relative(funcDir, join(funcDir, file)).split(sep).join('/')} imports ${imported.path}, but ${pkg} is not in the function's node_modules`,
        );
    }
  }

  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
  }
  const removed: string[] = [];
  for (const file of bundledSources(funcDir, Object.keys(result.metafile.inputs), keep)) {
    rmSync(file);
    removed.push(relative(funcDir, file));
  }
  pruneEmptyDirs(funcDir);
  for (const dir of inlinedToRemove) {
    rmSync(dir, { recursive: true, force: true });
    removed.push(`${relative(funcDir, dir)}/`);
  }
  config.handler = join(dirname(handler), `${name}.mjs`).split(sep).join('/');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return { route, handler: config.handler, outputs, removed, durationMs: Math.round(performance.now() - started) };
}

/**
 * Bundles every `.func` under `<outputDir>/functions`. Folders the CLI symlinked to one another are bundled
 * once (the links then see the result). Throws BundleFailure on the first function that does not bundle.
 */
export async function bundleFunctionOutput(
  functions: Array<{ route: string; dir: string }>,
  log: (line: string) => void = () => undefined,
): Promise<BundledFunction[]> {
  const done = new Map<string, BundledFunction>();
  const results: BundledFunction[] = [];
  for (const fn of functions) {
    const real = realpathSync(fn.dir);
    if (!statSync(real).isDirectory()) continue;
    const previous = done.get(real);
    if (previous) {
      results.push({ ...previous, route: fn.route, removed: [], durationMs: 0 });
      continue;
    }
    const bundled = await bundleFunction(fn.route, real);
    done.set(real, bundled);
    results.push(bundled);
    log(
      `bundle: ${fn.route} → ${bundled.handler} (${bundled.outputs.filter((f) => f.endsWith('.mjs')).length} files, ${bundled.durationMs} ms)`,
    );
  }
  return results;
}
