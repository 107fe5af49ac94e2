import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * `npm run build:docs`: bundles the reference page's renderer (./viewer.ts) with esbuild and writes the
 * /docs page as three static files (no CDN): public/docs/index.html (./index.html), public/docs/viewer.js
 * (the bundle) and public/docs/viewer.css (./viewer.css). Nothing inline: the site's CSP (vercel.json,
 * `script-src 'self'; style-src 'self'`) allows only scripts and styles loaded from this origin.
 * `--check` fails when a committed file differs from a fresh build (CI and test/contract/docs-page.test.ts).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const source = join(root, 'scripts', 'docs-viewer');
const out = join(root, 'public', 'docs');
export const DOCS_PAGE = join(out, 'index.html');
export const DOCS_SCRIPT = join(out, 'viewer.js');
export const DOCS_STYLE = join(out, 'viewer.css');

/** Every file of the /docs page: absolute path → content. */
export async function renderDocsFiles(): Promise<Map<string, string>> {
  const result = await build({
    entryPoints: [join(source, 'viewer.ts')],
    bundle: true,
    minify: false,
    format: 'iife',
    target: 'es2022',
    write: false,
    legalComments: 'none',
  });
  const script = result.outputFiles[0]?.text ?? '';
  return new Map([
    [DOCS_PAGE, readFileSync(join(source, 'index.html'), 'utf8')],
    [DOCS_SCRIPT, script],
    [DOCS_STYLE, readFileSync(join(source, 'viewer.css'), 'utf8')],
  ]);
}

/** The files of public/docs that differ from a fresh build (relative paths; empty when up to date). */
export async function staleDocsFiles(): Promise<string[]> {
  const stale: string[] = [];
  for (const [path, content] of await renderDocsFiles()) {
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) stale.push(relative(root, path));
  }
  return stale;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = await staleDocsFiles();
    if (stale.length > 0) {
      console.error(`${stale.join(', ')} out of date: run npm run build:docs`);
      process.exit(1);
    }
    console.log('public/docs is up to date');
  } else {
    mkdirSync(out, { recursive: true });
    for (const [path, content] of await renderDocsFiles()) {
      writeFileSync(path, content);
      console.log(`wrote ${relative(root, path)} (${content.length} bytes)`);
    }
  }
}
