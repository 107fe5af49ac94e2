import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * `npm run build:docs`: bundles the reference page's renderer (./viewer.ts) with esbuild and writes
 * public/docs/index.html with the script inline (one static file, no CDN). `--check` fails when the
 * committed page differs from a fresh build (CI and test/contract/docs-page.test.ts).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DOCS_PAGE = join(root, 'public', 'docs', 'index.html');

export async function renderDocsPage(): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'scripts', 'docs-viewer', 'viewer.ts')],
    bundle: true,
    minify: false,
    format: 'iife',
    target: 'es2022',
    write: false,
    legalComments: 'none',
  });
  const script = result.outputFiles[0]?.text ?? '';
  const template = readFileSync(join(root, 'scripts', 'docs-viewer', 'index.html'), 'utf8');
  // `</script` cannot occur inside the inline script.
  return template.replace('/*VIEWER*/', () => script.replaceAll('</script', '<\\/script'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const page = await renderDocsPage();
  if (process.argv.includes('--check')) {
    const current = readFileSync(DOCS_PAGE, 'utf8');
    if (current !== page) {
      console.error('public/docs/index.html is out of date: run npm run build:docs');
      process.exit(1);
    }
    console.log('public/docs/index.html is up to date');
  } else {
    mkdirSync(dirname(DOCS_PAGE), { recursive: true });
    writeFileSync(DOCS_PAGE, page);
    console.log(`wrote ${DOCS_PAGE} (${page.length} bytes)`);
  }
}
