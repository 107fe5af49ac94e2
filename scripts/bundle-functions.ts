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
 *    deletes what the bundle replaced (our compiled .js/.map files, inlined packages nothing else needs), so a
 *    bundle that still reached for one of them fails the smoke test instead of passing by accident.
 *    Non-JS files (migrations/*.sql, read by /api/health) stay.
 *  - Source maps: linked, chained through the compiled files' maps back to the TypeScript sources.
 * Fails (BundleFailure naming the route) on any esbuild error, e.g. an import that does not resolve.
 *
 * Deploy what was built and smoke-tested: `vercel deploy --prebuilt` (README, Deploying to Vercel).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

/** Pure ES module packages that are safe and worth inlining (big module graphs, no CommonJS, no file reads). */
export const INLINE_PACKAGES = ['stripe', 'zod'] as const;

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

/** `.js`/`.map` files outside node_modules: the compiled copies of api/ and lib/ the bundle now holds. */
function compiledSources(funcDir: string, keep: Set<string>): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== '_chunks') walk(abs);
      } else if (/\.(js|js\.map)$/.test(entry.name) && !keep.has(abs)) found.push(abs);
    }
  };
  walk(funcDir);
  return found;
}

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

export async function bundleFunction(route: string, funcDir: string): Promise<BundledFunction> {
  const started = performance.now();
  const configFile = join(funcDir, '.vc-config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as VcConfig;
  const handler = config.handler;
  if (!handler || !existsSync(join(funcDir, handler)))
    throw new BundleFailure(`${route}: handler ${handler ?? '(none)'} missing`);
  if (handler.endsWith('.bundle.mjs')) throw new BundleFailure(`${route}: already bundled (${handler})`);

  const entry = join(funcDir, handler);
  const outdir = dirname(entry);
  const name = `${basename(handler).replace(/\.[cm]?js$/, '')}.bundle`;
  const inline = new Set<string>(INLINE_PACKAGES);
  const { build } = await import('esbuild');
  let result: Awaited<ReturnType<typeof build>>;
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
      logLevel: 'silent',
      plugins: [
        {
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
        },
      ],
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors;
    const first = errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new BundleFailure(
      `${route}: ${first ? `${first.text}${where}` : error instanceof Error ? error.message : String(error)}`,
    );
  }

  const outputs = Object.keys(result.metafile?.outputs ?? {}).map((file) =>
    relative(funcDir, join(funcDir, file)).split(sep).join('/'),
  );
  const keep = new Set(outputs.map((file) => join(funcDir, file)));
  // The bundle must not import our compiled files or the inlined packages (they are about to go).
  for (const [file, output] of Object.entries(result.metafile?.outputs ?? {})) {
    for (const imported of output.imports) {
      if (!imported.external) continue;
      const pkg = packageOf(imported.path);
      if (pkg && inline.has(pkg)) throw new BundleFailure(`${route}: ${file} still imports ${imported.path}`);
    }
  }

  const removed: string[] = [];
  for (const file of compiledSources(funcDir, keep)) {
    rmSync(file);
    removed.push(relative(funcDir, file));
  }
  pruneEmptyDirs(funcDir);
  for (const dir of removableInlined(funcDir)) {
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
