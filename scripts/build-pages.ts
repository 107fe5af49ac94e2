import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the buyer pages' scripts: web/*.ts (plain TypeScript, importing lib/checkout/pricing.ts, the
 * server's own pricing rule) → public/assets/{checkout,success,cancel}.js, one self-contained ES module
 * each. The HTML and CSS in public/ are committed; these .js files are generated (git-ignored) by
 * `npm run build:pages`, which `npm run dev`, `npm run build:vercel` and the browser tests call.
 */

const ROOT = resolve(import.meta.dirname, '..');
export const PAGE_ENTRIES = ['checkout', 'success', 'cancel'] as const;

export async function buildPages(options: { root?: string; minify?: boolean } = {}): Promise<string[]> {
  const root = options.root ?? ROOT;
  const outdir = resolve(root, 'public', 'assets');
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(PAGE_ENTRIES.map((name) => [name, resolve(root, 'web', `${name}.ts`)])),
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
