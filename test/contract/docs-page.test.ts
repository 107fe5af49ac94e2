import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPages, DOCS_SCALAR_BUNDLE, scalarStandaloneBundle } from '../../scripts/build-pages.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { openApiDocument } from '../support/contract.js';

/**
 * /docs: Scalar's API reference (@scalar/api-reference from npm, its standalone browser bundle, built into
 * public/docs/ by scripts/build-pages.ts, git-ignored) renders the OpenAPI document in Chromium from this
 * deployment alone: the request log holds nothing but this origin, under vercel.json's CSP (the local server
 * applies its headers; /docs/* alone allows inline styles, script-src stays 'self') with no violation.
 * The page is opened at a host name that is not local (docs.test, mapped to the local server), as in
 * production: there Scalar would send "Test request" through its proxy and, on local URLs, switch its agent on
 * — the configuration (web/docs/main.ts) turns both off.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
let server: LocalServer;
let browser: Browser;

beforeAll(async () => {
  await buildPages();
  server = await startLocalServer({ port: 0 });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // A host name that is not local, answered by the local server: http://docs.test:<port>.
      '--host-resolver-rules=MAP docs.test 127.0.0.1',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens /docs at `host`, recording every request, console CSP report and page error. */
async function openDocs(
  host: string,
): Promise<{ page: Page; origin: string; requests: string[]; cspViolations: string[]; pageErrors: string[] }> {
  const origin = `http://${host}:${server.port}`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Generous: a 4.8 MB bundle parsed on a loaded CI machine; a page that never renders still fails.
  page.setDefaultTimeout(60_000);
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (/content.security.policy/i.test(message.text())) cspViolations.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    requests.push(request.url());
  });
  const response = await page.goto(`${origin}/docs`);
  expect(response?.status()).toBe(200);
  // The reference has rendered the document: the refund operation is on the page.
  await page.locator('[id$="/POST/api/payments/refund"]').waitFor();
  return { page, origin, requests, cspViolations, pageErrors };
}

/** The text as rendered (Playwright's innerText: line breaks between blocks), not the DOM's textContent. */
function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, the rendered text, is what is asserted
  return locator.innerText();
}

function externalRequests(requests: string[], origin: string): string[] {
  return requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
}

describe('/docs', () => {
  it('is built from npm: Scalar standalone bundle (pinned) and our configuration script, nothing inline', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(manifest.devDependencies['@scalar/api-reference']).toMatch(/^\d+\.\d+\.\d+$/);
    // public/docs/scalar.js is the package's own browser bundle (minus its source-map comment).
    expect(readFileSync(join(ROOT, 'public', DOCS_SCALAR_BUNDLE), 'utf8')).toBe(scalarStandaloneBundle());
    const html = readFileSync(join(ROOT, 'public', 'docs', 'index.html'), 'utf8');
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//);
    // Every <script> loads a file of this origin; none has inline code.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.map(([, attrs]) => /\ssrc="([^"]+)"/.exec(attrs ?? '')?.[1])).toEqual([
      '/docs/reference.js',
      '/docs/scalar.js',
    ]);
    for (const [, , body] of scripts) expect(body?.trim()).toBe('');
  });

  it('is served with script-src self; only /docs allows inline styles', async () => {
    const csp = async (path: string) => (await fetch(`${server.url}${path}`)).headers.get('content-security-policy') ?? '';
    for (const path of ['/docs', '/docs/', '/docs/scalar.js', '/docs/reference.js']) {
      const policy = await csp(path);
      expect(policy, path).toMatch(/(^|; )script-src 'self'(;|$)/);
      expect(policy, path).toMatch(/(^|; )style-src 'self' 'unsafe-inline'(;|$)/);
      expect(policy, path).toMatch(/(^|; )connect-src 'self'(;|$)/);
      expect(policy, path).toMatch(/(^|; )font-src 'self'(;|$)/);
      expect(policy, path).not.toContain('unsafe-eval');
    }
    for (const path of ['/', '/admin/', '/tickets/success', '/api/openapi.json']) {
      const policy = await csp(path);
      expect(policy, path).toMatch(/(^|; )style-src 'self'(;|$)/);
      expect(policy, path).not.toContain('unsafe-inline');
    }
  });

  it('renders every operation, the refund body rules and the error codes, with no request to any other host', async () => {
    const { page, origin, requests, cspViolations, pageErrors } = await openDocs('docs.test');

    const document = openApiDocument();
    const operations = Object.values(document.paths as Record<string, Record<string, unknown>>).flatMap((item) =>
      Object.keys(item).filter((key) => HTTP_METHODS.includes(key)),
    );
    expect(operations.length).toBeGreaterThan(20);
    const operationIds = await page.evaluate(() =>
      [...document.querySelectorAll('[id]')]
        .map((el) => el.id)
        .filter((id) => /\/tag\/[^/]+\/(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE)\//.test(id)),
    );
    expect(new Set(operationIds).size).toBe(operations.length);

    // The refund operation: its body's rules (reason: min length 10), the Idempotency-Key header, its error codes.
    const refund = page.locator('[id$="/POST/api/payments/refund"]');
    await refund.scrollIntoViewIfNeeded();
    await expect.poll(() => shownText(refund)).toMatch(/\breason\s+Type:\s*string\s+min length:\s*10\b/);
    const refundText = await shownText(refund);
    expect(refundText).toContain('Idempotency-Key');
    expect(refundText).toContain('REFUND_EXCEEDS_REFUNDABLE');
    // The error-code table of the introduction (info.description): code → status.
    const errorTable = page.locator('table', { hasText: 'ORIGIN_NOT_ALLOWED' }).first();
    expect(await shownText(errorTable.locator('tr', { hasText: 'ORIGIN_NOT_ALLOWED' }))).toMatch(/ORIGIN_NOT_ALLOWED\s+403/);
    expect(await shownText(errorTable.locator('tr', { hasText: 'REFUND_EXCEEDS_REFUNDABLE' }))).toMatch(/\s422$/);

    // Styled: Scalar's stylesheet (injected at runtime, allowed by /docs' style-src) applies.
    expect(
      await page
        .locator('.scalar-app')
        .first()
        .evaluate((el) => getComputedStyle(el).fontFamily),
    ).not.toBe('');
    expect(await page.evaluate(() => document.fonts.size === 0 || [...document.fonts].every((f) => f.status !== 'loading'))).toBe(
      true,
    );

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ROOT, 'test-results', 'docs-page.png') });
    await refund.screenshot({ path: join(ROOT, 'test-results', 'docs-refund.png') });

    // "Test request" goes to this deployment itself (the document's server `/`), never through a proxy.
    const health = page.locator('[id$="/GET/api/health"]');
    await health.scrollIntoViewIfNeeded();
    await health
      .getByRole('button', { name: /test request/i })
      .first()
      .click();
    // (Through a proxy the URL would be the proxy's, with ours encoded in its query string.)
    const sent = page.waitForRequest((request) => /api(\/|%2F)health/i.test(request.url()));
    await page.getByRole('button', { name: /^send/i }).first().click();
    expect((await sent).url()).toBe(`${origin}/api/health`);

    expect(cspViolations, 'CSP violations').toEqual([]);
    expect(pageErrors, 'page errors').toEqual([]);
    expect(externalRequests(requests, origin), 'requests to other hosts').toEqual([]);
    for (const path of ['/docs', '/docs/reference.js', '/docs/scalar.js', '/api/openapi.json']) {
      expect(requests).toContain(`${origin}${path}`);
    }
    await page.close();
  }, 180_000);

  it('makes no request to any other host on a local URL either (where Scalar would offer its agent)', async () => {
    const { page, origin, requests, cspViolations, pageErrors } = await openDocs('127.0.0.1');
    await page.waitForLoadState('networkidle');
    expect(await page.getByText(/ask ai|agent scalar/i).count()).toBe(0);
    expect(cspViolations, 'CSP violations').toEqual([]);
    expect(pageErrors, 'page errors').toEqual([]);
    expect(externalRequests(requests, origin), 'requests to other hosts').toEqual([]);
    await page.close();
  }, 180_000);
});
