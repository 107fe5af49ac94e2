import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the pages' scripts in one esbuild run:
 * - the buyer pages: web/*.ts (plain TypeScript, importing lib/checkout/pricing.ts, the server's own
 *   pricing rule) → public/assets/{checkout,success,cancel}.js, one self-contained ES module each;
 * - the staff dashboard: web/admin/main.ts (importing lib/money.ts's decimal parser and uPlot from npm)
 *   → public/admin/dashboard.js, plus public/admin/dashboard.css (uPlot's stylesheet, bundled: no CDN);
 * - the API reference (/docs): web/docs/main.ts (Scalar's configuration) → public/docs/reference.js, and
 *   @scalar/api-reference's standalone browser bundle from npm copied to public/docs/scalar.js (no CDN).
 * The HTML and the hand-written CSS in public/ are committed; these outputs are generated (git-ignored) by
 * `npm run build:pages`, which `npm run dev`, `npm run build:vercel` and the tests that serve public/ call.
 */

const ROOT = resolve(import.meta.dirname, '..');
export const PAGE_ENTRIES = ['checkout', 'success', 'cancel'] as const;
/** The staff dashboard (public/admin/): entry under web/, output under public/ (without extension). */
export const ADMIN_ENTRY = { in: 'web/admin/main.ts', out: 'admin/dashboard' } as const;
/** The API reference (public/docs/): its configuration script, and where Scalar's bundle is copied to. */
export const DOCS_ENTRY = { in: 'web/docs/main.ts', out: 'docs/reference' } as const;
export const DOCS_SCALAR_BUNDLE = 'docs/scalar.js';

/**
 * @scalar/api-reference's standalone browser bundle (the file its package.json names as `browser`), as
 * published on npm, minus its `sourceMappingURL` line (the map is not served).
 */
export function scalarStandaloneBundle(root: string = ROOT): string {
  const require = createRequire(join(root, 'package.json'));
  const packageDir = dirname(dirname(require.resolve('@scalar/api-reference')));
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { browser?: string };
  if (!manifest.browser) throw new Error('build-pages: @scalar/api-reference names no browser bundle');
  return readFileSync(join(packageDir, manifest.browser), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

export async function buildPages(options: { root?: string; minify?: boolean } = {}): Promise<string[]> {
  const root = options.root ?? ROOT;
  const outdir = resolve(root, 'public');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [
      ...PAGE_ENTRIES.map((name) => ({ in: resolve(root, 'web', `${name}.ts`), out: `assets/${name}` })),
      { in: resolve(root, ADMIN_ENTRY.in), out: ADMIN_ENTRY.out },
      { in: resolve(root, DOCS_ENTRY.in), out: DOCS_ENTRY.out },
    ],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  if (result.warnings.length > 0) {
    throw new Error(`build-pages: ${result.warnings.map((w) => w.text).join('; ')}`);
  }
  const scalar = join(outdir, DOCS_SCALAR_BUNDLE);
  mkdirSync(dirname(scalar), { recursive: true });
  writeFileSync(scalar, scalarStandaloneBundle(root));
  return [...Object.keys(result.metafile.outputs), relative(root, scalar)];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outputs = await buildPages();
  process.stderr.write(`build-pages: ${outputs.join(', ')}\n`);
}
