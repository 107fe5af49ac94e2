import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { type StripeSandbox, startStripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { createEventWithTicketTypes, uniqueEmail } from '../support/factories.js';
import { decodeQr, mailTo, settleMail, useMailCatcher } from '../support/mail.js';

/**
 * What `npm run dev` gives a developer, in a real browser: the local server with the Stripe sandbox and
 * the mail catcher. A checkout is made over HTTP, paid with card 4242 on the sandbox's payment page, the
 * sandbox's signed webhook completes the order, and the confirmation shows up on /dev/mail (screenshot
 * in test-results/, git-ignored).
 */

const CHROMIUM = '/usr/bin/chromium';
const SECRET_KEY = 'sk_test_browser_mail_51BoulderFest';
const WEBHOOK_SECRET = 'whsec_browser_mail_test';
const SHOTS = join(process.cwd(), 'test-results');

let catcher: MailCatcher;
let server: LocalServer;
let sandbox: StripeSandbox;
let browser: Browser;

beforeAll(async () => {
  catcher = await useMailCatcher();
  server = await startLocalServer({ port: 0, mailCatcher: catcher });
  sandbox = await startStripeSandbox({
    secretKey: SECRET_KEY,
    webhookSecret: WEBHOOK_SECRET,
    webhookUrl: `${server.url}/api/webhooks/stripe`,
  });
  Object.assign(process.env, {
    STRIPE_SECRET_KEY: SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: sandbox.url,
    PUBLIC_SITE_URL: server.url,
    ALLOWED_ORIGINS: `${server.url},https://www.alocubanoboulderfest.org`,
  });
  resetConfigForTests();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await settleMail();
  await sandbox?.idle();
  await sandbox?.close();
  await server?.close();
  await catcher?.close();
});

describe.skipIf(!existsSync(CHROMIUM))('browser: pay on the Stripe sandbox page, read the email on /dev/mail', () => {
  it('card 4242 → the confirmation with one QR per ticket appears on the local mail page', async () => {
    const { event } = await createEventWithTicketTypes(
      { full_festival: { name: 'Full Festival Pass', priceCents: 12_000, slidingScale: true } },
      { name: 'A Lo Cubano Boulder Fest 2026' },
    );
    const email = uniqueEmail('browser');
    const created = await fetch(`${server.url}/api/payments/checkout-session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `browser-mail-${email}` },
      body: JSON.stringify({
        event: event.slug,
        provider: 'stripe',
        slidingScalePercent: 20,
        items: [
          {
            ticketType: 'full_festival',
            quantity: 2,
            attendees: [
              { firstName: 'Ana', lastName: 'Díaz', email: `ana.${email}` },
              { firstName: 'Luis', lastName: 'Pérez', email: `luis.${email}` },
            ],
          },
        ],
        customer: { email, firstName: 'Ana', lastName: 'Díaz' },
      }),
    });
    expect(created.status).toBe(201);
    const checkout = (await created.json()) as { checkoutUrl: string; orderId: string; orderNumber: string };

    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(checkout.checkoutUrl);
    await page.fill('input[name="card"]', '4242 4242 4242 4242');
    await Promise.all([page.waitForEvent('framenavigated'), page.click('button[type="submit"]')]);

    const mail = await catcher.waitFor((m) => m.envelope.to.includes(email), 20_000);
    await settleMail();
    expect(mailTo(catcher, email)).toHaveLength(1);
    const status = await db.queryOne<{ status: string }>('SELECT status FROM orders WHERE id = $1', [checkout.orderId]);
    expect(status?.status).toBe('completed');
    const codes = mail.parsed.attachments.map((a) => decodeQr(a.content));
    expect(codes).toHaveLength(2);

    await page.goto(`${server.url}/dev/mail?m=${mail.seq}`);
    await expect(page.locator('main h2').textContent()).resolves.toContain(checkout.orderNumber);
    const frame = page.frameLocator('iframe[title="HTML part"]');
    await expect(frame.locator('h1').textContent()).resolves.toBe('Your tickets are confirmed');
    const loadedImages = await frame
      .locator('img')
      .evaluateAll((images) => images.filter((img) => (img as HTMLImageElement).naturalWidth > 100).length);
    expect(loadedImages).toBe(2);
    await expect(frame.locator('body').textContent()).resolves.toContain('USD 192.00');

    mkdirSync(SHOTS, { recursive: true });
    await page.setViewportSize({ width: 1280, height: 1800 });
    await page.screenshot({ path: join(SHOTS, 'dev-mail-confirmation.png'), fullPage: true });
    await page.close();
  });
});
