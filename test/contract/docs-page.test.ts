import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { DOCS_PAGE, renderDocsFiles, staleDocsFiles } from '../../scripts/docs-viewer/build.js';
import { openApiDocument } from '../support/contract.js';

/**
 * /docs: the reference page renders the OpenAPI document in Chromium from this deployment alone
 * (the request log must hold nothing but the local server), under the site's strict CSP (the local
 * server applies vercel.json's headers: no inline script or style runs), and the committed files are
 * the build of their source.
 */

const ROOT = resolve(import.meta.dirname, '../..');
let server: LocalServer;
let browser: Browser;

beforeAll(async () => {
  server = await startLocalServer({ port: 0 });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('/docs', () => {
  it('is the build of scripts/docs-viewer (npm run build:docs), with nothing inline', async () => {
    expect(await staleDocsFiles()).toEqual([]);
    expect([...(await renderDocsFiles()).keys()]).toContain(DOCS_PAGE);
    const html = readFileSync(DOCS_PAGE, 'utf8');
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    // Every <script> loads a file of this origin; none has inline code.
    for (const [, attrs, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      expect(attrs).toMatch(/\ssrc="\/docs\/[a-z-]+\.js"/);
      expect(body?.trim()).toBe('');
    }
  });

  it('renders every operation of the document in Chromium, with no request to any other host', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) cspViolations.push(message.text());
    });
    const requests: string[] = [];
    page.on('request', (request) => {
      requests.push(request.url());
    });
    const response = await page.goto(`${server.url}/docs`);
    expect(response?.status()).toBe(200);
    // The page is served with the site's strict CSP (vercel.json headers, applied by the local server).
    const csp = (await response?.allHeaders())?.['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.waitForSelector('body[data-ready]', { timeout: 15_000 });
    expect(await page.getAttribute('body', 'data-ready')).toBe('true');

    const document = openApiDocument();
    const operations = Object.values(document.paths as Record<string, Record<string, unknown>>).flatMap((item) =>
      Object.keys(item).filter((method) => method !== 'options'),
    );
    expect(await page.locator('section.op').count()).toBe(operations.length);
    expect(await page.locator('nav li').count()).toBe(operations.length);
    // The refund operation shows its body's rules and the scope it needs.
    const refund = page.locator('#post-api-payments-refund');
    await expect.poll(() => refund.textContent()).toContain('refunds:write');
    expect(await refund.textContent()).toContain('Idempotency-Key');
    expect(await refund.textContent()).toContain('REFUND_EXCEEDS_REFUNDABLE');
    expect(await page.locator('main').textContent()).toContain('ORIGIN_NOT_ALLOWED');

    // Styled by /docs/viewer.css (an inline style would be refused by the CSP).
    expect(
      await page
        .locator('section.op')
        .first()
        .evaluate((el) => getComputedStyle(el).borderTopStyle),
    ).toBe('solid');
    expect(cspViolations, 'CSP violations').toEqual([]);

    const origin = new URL(server.url).origin;
    const external = requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    expect(external, 'requests to other hosts').toEqual([]);
    expect(requests).toContain(`${origin}/api/openapi.json`);
    expect(requests).toContain(`${origin}/docs/viewer.js`);
    expect(requests).toContain(`${origin}/docs/viewer.css`);

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'docs-page.png') });
    await page.locator('#post-api-payments-refund').scrollIntoViewIfNeeded();
    await page
      .locator('#post-api-payments-refund details')
      .first()
      .evaluate((el) => {
        (el as HTMLDetailsElement).open = true;
      });
    await page.locator('#post-api-payments-refund').screenshot({ path: join(ROOT, 'test-results', 'docs-refund.png') });
    await page.close();
  });
});
