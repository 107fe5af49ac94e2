import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the pages' scripts in one esbuild run:
 * - the buyer pages: web/*.ts (plain TypeScript, importing lib/checkout/pricing.ts, the server's own
 *   pricing rule) → public/assets/{checkout,success,cancel}.js, one self-contained ES module each;
 * - the staff dashboard: web/admin/main.ts (importing lib/money.ts's decimal parser and uPlot from npm)
 *   → public/admin/dashboard.js, plus public/admin/dashboard.css (uPlot's stylesheet, bundled: no CDN).
 * The HTML and the hand-written CSS in public/ are committed; these outputs are generated (git-ignored) by
 * `npm run build:pages`, which `npm run dev`, `npm run build:vercel` and the browser tests call.
 */

const ROOT = resolve(import.meta.dirname, '..');
export const PAGE_ENTRIES = ['checkout', 'success', 'cancel'] as const;
/** The staff dashboard (public/admin/): entry under web/, output under public/ (without extension). */
export const ADMIN_ENTRY = { in: 'web/admin/main.ts', out: 'admin/dashboard' } as const;

export async function buildPages(options: { root?: string; minify?: boolean } = {}): Promise<string[]> {
  const root = options.root ?? ROOT;
  const outdir = resolve(root, 'public');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [
      ...PAGE_ENTRIES.map((name) => ({ in: resolve(root, 'web', `${name}.ts`), out: `assets/${name}` })),
      { in: resolve(root, ADMIN_ENTRY.in), out: ADMIN_ENTRY.out },
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
  return Object.keys(result.metafile.outputs);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outputs = await buildPages();
  process.stderr.write(`build-pages: ${outputs.join(', ')}\n`);
}
