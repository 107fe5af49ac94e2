import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { startSandboxes, type Sandboxes } from '../../sandbox/index.js';
import { buildPages } from '../../scripts/build-pages.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import { type MailCatcher, startMailCatcher } from '../../scripts/mail-catcher.js';

/**
 * The buyer's journey in a real browser: Debian's chromium driven by playwright-core, against the
 * local server (scripts/local-server.ts: api/ + public/ with vercel.json's headers, so the
 * Content-Security-Policy is enforced), the provider sandboxes sending signed webhooks to it, and the
 * run's test database. The pages' scripts are built first (scripts/build-pages.ts), as dev and
 * build:vercel do.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const RESULTS_DIR = resolve(import.meta.dirname, '..', '..', 'test-results');
const AXE_SOURCE = readFileSync(resolve(import.meta.dirname, '..', '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface BrowserRig {
  readonly server: LocalServer;
  readonly sandboxes: Sandboxes;
  readonly browser: Browser;
  /** The mail catcher behind SMTP_URL and /dev/mail (with `useBrowserRig({ mail: true })`). */
  readonly mail: MailCatcher;
  /** A fresh browser (own sessionStorage) with CSP violations collected. */
  newPage(viewport?: {
    width: number;
    height: number;
  }): Promise<{ page: Page; context: BrowserContext; cspViolations: string[] }>;
}

export function useBrowserRig(options: { mail?: boolean } = {}): BrowserRig {
  let mail: MailCatcher | undefined;
  let server: LocalServer | undefined;
  let sandboxes: Sandboxes | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    await buildPages();
    if (options.mail) {
      // As `npm run dev` does: a local SMTP catcher, its mail on the local server's /dev/mail.
      mail = await startMailCatcher({ port: 0 });
      process.env.SMTP_URL = mail.url;
      process.env.MAIL_FROM = 'A Lo Cubano Boulder Fest <tickets@example.test>';
    }
    server = await startLocalServer({ port: 0, ...(mail ? { mailCatcher: mail } : {}) });
    const stripeWebhookSecret = 'whsec_browser_tests';
    const paypalWebhookId = 'WH-BROWSER-TESTS';
    sandboxes = await startSandboxes({ appUrl: server.url, stripeWebhookSecret, paypalWebhookId });
    Object.assign(process.env, {
      STRIPE_SECRET_KEY: 'sk_test_browser_51BoulderFest',
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      STRIPE_API_BASE: sandboxes.stripe.url,
      PAYPAL_CLIENT_ID: 'paypal-browser-client',
      PAYPAL_CLIENT_SECRET: 'paypal-browser-secret',
      PAYPAL_ENVIRONMENT: 'sandbox',
      PAYPAL_WEBHOOK_ID: paypalWebhookId,
      PAYPAL_API_BASE: sandboxes.paypal.url,
      ALLOWED_ORIGINS: server.url,
      PUBLIC_SITE_URL: server.url,
      RATE_LIMIT_ENABLED: 'false',
    });
    resetConfigForTests();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    mkdirSync(RESULTS_DIR, { recursive: true });
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await sandboxes?.close();
    await server?.close();
    await mail?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('not started');
      return server;
    },
    get sandboxes() {
      if (!sandboxes) throw new Error('not started');
      return sandboxes;
    },
    get mail() {
      if (!mail) throw new Error('no mail catcher: useBrowserRig({ mail: true })');
      return mail;
    },
    get browser() {
      if (!browser) throw new Error('not started');
      return browser;
    },
    async newPage(viewport = { width: 1280, height: 900 }) {
      if (!browser || !server) throw new Error('not started');
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      const cspViolations: string[] = [];
      page.on('console', (message) => {
        if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      page.setDefaultTimeout(15_000);
      return { page, context, cspViolations };
    },
  };
}

/**
 * axe-core in the page: the script is served from the page's own origin (a route), so the strict CSP
 * (script-src 'self') stays on while it runs. Returns the serious and critical violations.
 */
export async function seriousAxeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  const origin = new URL(page.url()).origin;
  const axeUrl = `${origin}/__test/axe.min.js`;
  await page.route(axeUrl, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: AXE_SOURCE }));
  await page.addScriptTag({ url: axeUrl });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Full-page screenshots at 1280 px and 375 px wide, saved under test-results/ (git-ignored). */
export async function screenshots(page: Page, name: string): Promise<void> {
  const original = page.viewportSize();
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    await page.screenshot({ path: join(RESULTS_DIR, `${name}-${width}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** "$1,234.56" → 123456 */
export function centsOf(text: string): number {
  const m = /(-|−)?\$?([\d,]+)\.(\d{2})/.exec(text);
  if (!m?.[2] || !m[3]) throw new Error(`no amount in ${JSON.stringify(text)}`);
  const cents = Number(m[2].replaceAll(',', '')) * 100 + Number(m[3]);
  return m[1] ? -cents : cents;
}

export interface BuyerForm {
  quantities: Record<string, number>;
  percent?: number;
  provider?: 'stripe' | 'paypal';
  buyer?: { firstName: string; lastName: string; email: string };
  attendees?: { firstName: string; lastName: string }[];
}

/** Fills the checkout page with the keyboard (quantities, slider, names), as a buyer would. */
export async function fillCheckout(page: Page, form: BuyerForm): Promise<void> {
  for (const [code, quantity] of Object.entries(form.quantities)) {
    await page.fill(`#qty-${code}`, String(quantity));
    await page.press(`#qty-${code}`, 'Tab');
  }
  if (form.percent !== undefined) await setSlidingScale(page, form.percent);
  let n = 0;
  for (const [code, quantity] of Object.entries(form.quantities)) {
    for (let i = 0; i < quantity; i++) {
      const person = form.attendees?.[n] ?? { firstName: `Guest${n + 1}`, lastName: 'Dancer' };
      n += 1;
      await page.fill(`#att-${code}-${i}-first`, person.firstName);
      await page.fill(`#att-${code}-${i}-last`, person.lastName);
    }
  }
  const buyer = form.buyer ?? {
    firstName: 'Ana',
    lastName: 'García',
    email: `ana.${Date.now()}.${Math.random().toString(36).slice(2, 7)}@example.test`,
  };
  await page.fill('#buyer-first', buyer.firstName);
  await page.fill('#buyer-last', buyer.lastName);
  await page.fill('#buyer-email', buyer.email);
  await page.check(form.provider === 'paypal' ? '#provider-paypal' : '#provider-stripe');
}

/** The slider, moved with the keyboard only: Home, then one ArrowRight per 5 % step. */
export async function setSlidingScale(page: Page, percent: number): Promise<void> {
  await page.focus('#sliding-scale');
  await page.keyboard.press('Home');
  for (let p = 0; p < percent; p += 5) await page.keyboard.press('ArrowRight');
  expect(await page.inputValue('#sliding-scale')).toBe(String(percent));
}
