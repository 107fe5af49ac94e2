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
 *   @scalar/api-reference's standalone browser bundle from npm copied to public/docs/scalar.js (no CDN);
 * - the return pages: web/return-page.html (the one head and header) around web/{success,cancel}.html (each
 *   page's <main>) → public/tickets/{success,cancel}/index.html.
 * The checkout, dashboard and docs HTML and the hand-written CSS in public/ are committed; these outputs are
 * generated (git-ignored) by `npm run build:pages`, which `npm run dev`, `npm run build:vercel` and the tests that
 * serve public/ call.
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

/** The provider's return pages (/tickets/<name>): their <title> and script; the <main> is web/<name>.html. */
export const RETURN_PAGES = [
  { name: 'success', title: 'Your order' },
  { name: 'cancel', title: 'Payment cancelled' },
] as const;

/** Writes public/tickets/<name>/index.html for each return page: web/return-page.html with its slots filled. */
function writeReturnPages(root: string): string[] {
  const layout = readFileSync(resolve(root, 'web/return-page.html'), 'utf8');
  return RETURN_PAGES.map(({ name, title }) => {
    const slots: Record<string, string> = {
      title,
      script: name,
      main: readFileSync(resolve(root, 'web', `${name}.html`), 'utf8'),
    };
    const file = resolve(root, 'public/tickets', name, 'index.html');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      layout.replace(/\{\{(\w+)\}\}/g, (_, slot: string) => {
        if (!(slot in slots)) throw new Error(`build-pages: web/return-page.html has an unknown slot {{${slot}}}`);
        return slots[slot] as string;
      }),
    );
    return relative(root, file);
  });
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
  return [...Object.keys(result.metafile.outputs), relative(root, scalar), ...writeReturnPages(root)];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outputs = await buildPages();
  process.stderr.write(`build-pages: ${outputs.join(', ')}\n`);
}
