import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { createEventWithTicketTypes } from '../support/factories.js';
import { decodeQr, mailTo, settleMail } from '../support/mail.js';
import { CHROMIUM, fillCheckout, RESULTS_DIR, useBrowserRig } from './support.js';

/**
 * What `npm run dev` gives a developer, in a real browser: the local server with the provider sandboxes and
 * the mail catcher. The buyer checks out on the checkout page, pays with card 4242 on the Stripe sandbox
 * page, the sandbox's signed webhook completes the order, and the confirmation shows up on /dev/mail
 * (screenshot in test-results/, git-ignored). Its "View your order online" link then opens the receipt in a
 * fresh browser (no sessionStorage from checkout): the link's own token.
 */

const rig = useBrowserRig({ mail: true });

afterAll(async () => {
  await settleMail();
});

describe.skipIf(!existsSync(CHROMIUM))(
  'browser: pay on the Stripe sandbox page, read the email on /dev/mail',
  { timeout: 120_000 },
  () => {
    it('card 4242 → the confirmation with one QR per ticket on /dev/mail; its link opens the order in a fresh browser', async () => {
      const { event } = await createEventWithTicketTypes(
        { full_festival: { name: 'Full Festival Pass', priceCents: 12_000, slidingScale: true, capacity: 20 } },
        { name: 'A Lo Cubano Boulder Fest 2026' },
      );
      const email = `browser.mail.${Date.now()}.${Math.random().toString(36).slice(2, 7)}@example.test`;

      const { page } = await rig.newPage({ width: 1280, height: 1000 });
      await page.goto(`${rig.server.url}/?event=${event.slug}`);
      await page.waitForSelector('#checkout:not([hidden])');
      await fillCheckout(page, {
        quantities: { full_festival: 2 },
        percent: 20,
        buyer: { firstName: 'Ana', lastName: 'Díaz', email },
        attendees: [
          { firstName: 'Ana', lastName: 'Díaz' },
          { firstName: 'Luis', lastName: 'Pérez' },
        ],
      });
      await page.click('#pay');
      await page.waitForURL(/\/pay\//);
      await page.fill('input[name="card"]', '4242 4242 4242 4242');
      await page.click('button[type="submit"]');
      await page.waitForURL(/\/tickets\/success\?/);

      const mail = await rig.mail.waitFor((m) => m.envelope.to.includes(email), 30_000);
      await settleMail();
      expect(mailTo(rig.mail, email)).toHaveLength(1);
      const order = await db.queryOne<{ id: string; orderNumber: string; status: string }>(
        `SELECT o.id, o.order_number AS "orderNumber", o.status FROM orders o JOIN customers c ON c.id = o.customer_id
       WHERE c.email = $1`,
        [email],
      );
      expect(order?.status).toBe('completed');
      expect(mail.parsed.attachments.map((a) => decodeQr(a.content).length)).toEqual([43, 43]);

      await page.goto(`${rig.server.url}/dev/mail?m=${mail.seq}`);
      expect(await page.locator('main h2').textContent()).toContain(order?.orderNumber);
      const frame = page.frameLocator('iframe[title="HTML part"]');
      expect(await frame.locator('h1').textContent()).toBe('Your tickets are confirmed');
      const loadedImages = await frame
        .locator('img')
        .evaluateAll((images) => images.filter((img) => (img as HTMLImageElement).naturalWidth > 100).length);
      expect(loadedImages).toBe(2);
      expect(await frame.locator('body').textContent()).toContain('USD 192.00');
      await page.setViewportSize({ width: 1280, height: 1800 });
      await page.screenshot({ path: join(RESULTS_DIR, 'dev-mail-confirmation.png'), fullPage: true });

      // The email's link, in a browser that never saw the checkout.
      const link = /https?:\/\/\S+\/tickets\/success\?order_id=[0-9a-f-]{36}#token=[A-Za-z0-9_-]{43}/.exec(
        mail.parsed.text ?? '',
      )?.[0];
      expect(link).toBeTruthy();
      const fresh = await rig.newPage({ width: 1280, height: 1000 });
      await fresh.page.goto(link ?? '');
      await fresh.page.waitForSelector('#receipt:not([hidden])');
      expect(await fresh.page.textContent('#r-number')).toBe(order?.orderNumber);
      // The token leaves the address bar once read.
      expect(fresh.page.url()).not.toContain('#token=');
      await fresh.page.screenshot({ path: join(RESULTS_DIR, 'email-link-receipt.png'), fullPage: true });
    });
  },
);
