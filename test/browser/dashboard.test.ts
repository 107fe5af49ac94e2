import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, revokeApiKey } from '../../lib/auth/api-keys.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { makeKey, makeRevokedKey, type PaidOrder, paidStripeOrder, TEST_ACTOR, type TestKey } from '../support/staff.js';
import { RESULTS_DIR, seriousAxeViolations, useBrowserRig } from './support.js';

/**
 * Issue 15 "Must show": the staff dashboard (public/admin/) in Debian's chromium, against the local
 * server, the provider sandboxes and sales made through the real checkout + sandbox payment.
 *
 * The Overview and Reconciliation sections call endpoints that other branches add (ledger:
 * api/analytics/*.ts; recon: api/reconciliation.ts). Until those land, their figure-comparison tests
 * are SKIPPED (the skip names the missing file) and a test checks that the page says "not available
 * on this deployment" instead.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const HAS_ANALYTICS =
  existsSync(join(ROOT, 'api', 'analytics', 'summary.ts')) && existsSync(join(ROOT, 'api', 'analytics', 'revenue.ts'));
const HAS_RECONCILIATION = existsSync(join(ROOT, 'api', 'reconciliation.ts'));
const HAS_LEDGER = existsSync(join(ROOT, 'api', 'orders', '[id]', 'money.ts'));
if (!HAS_ANALYTICS) {
  console.warn(
    '[dashboard browser tests] SKIPPING the overview figures test: api/analytics/summary.ts is not on this branch (ledger).',
  );
}
if (!HAS_RECONCILIATION) {
  console.warn(
    '[dashboard browser tests] SKIPPING the reconciliation report test: api/reconciliation.ts is not on this branch (recon).',
  );
}

const rig = useBrowserRig();

/** A module of a branch that may not be merged yet (absolute path: vitest transforms it like any other). */
async function importOptional<T>(relativePath: string): Promise<T> {
  return (await import(/* @vite-ignore */ join(ROOT, relativePath))) as T;
}

/** Every URL any dashboard page requested, and every localStorage / cookie snapshot taken (issue 15 point 7). */
const requestLog: string[] = [];
const storageLog: string[] = [];
const keysUsed: string[] = [];

let full: TestKey;
let sale: PaidOrder;
let slug: string;
const attendeeLastName = `Zayas${randomUUID()
  .slice(0, 6)
  .replace(/[^a-z]/gi, 'q')}`;

beforeAll(async () => {
  full = await makeKey(API_KEY_SCOPES, { name: 'dashboard full' });
  keysUsed.push(full.key);
  // Seeded sales through the real flow: checkout → sandbox card payment → finalize (+ the sandbox's webhook).
  sale = await paidStripeOrder(rig.sandboxes.stripe, { quantity: 4, priceCents: 5_000, attendeeLastName, capacity: 20 });
  const row = await db.queryOne<{ slug: string }>(
    `SELECT e.slug FROM orders o JOIN events e ON e.id = o.event_id WHERE o.id = $1`,
    [sale.orderId],
  );
  slug = row?.slug ?? '';
}, 60_000);

async function openDashboard(
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; context: BrowserContext; csp: string[] }> {
  const { page, context, cspViolations } = await rig.newPage(viewport);
  page.on('request', (request) => requestLog.push(request.url()));
  await page.goto(`${rig.server.url}/admin/`);
  await page.waitForSelector('#signin:not([hidden])');
  return { page, context, csp: cspViolations };
}

/**
 * Waits for the filtered answer, not the list shown before it: the table holds exactly one row, the order's
 * (the unfiltered list may show the same order first, then be replaced). Times out — fails — otherwise.
 */
async function waitForOnlyRow(page: Page, table: string, orderId: string): Promise<void> {
  await page.waitForFunction(
    ([selector, id]) => {
      const rows = document.querySelectorAll(`${selector} tbody tr`);
      return rows.length === 1 && rows[0]?.querySelector(`a[href="#/orders/${id}"]`) !== null;
    },
    [table, orderId] as const,
  );
}

async function signIn(page: Page, key: string): Promise<void> {
  if (!keysUsed.includes(key)) keysUsed.push(key);
  await page.fill('#api-key', key);
  await page.press('#api-key', 'Enter');
  await page.waitForSelector('#nav:not([hidden])');
}

async function snapshotStorage(page: Page): Promise<void> {
  storageLog.push(
    await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, cookie: document.cookie, url: location.href })),
  );
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(RESULTS_DIR, `dashboard-${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.screenshot({ path: join(RESULTS_DIR, `dashboard-${name}-tablet.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function availability(code: string): Promise<number> {
  const res = await fetch(`${rig.server.url}/api/tickets?event=${slug}`);
  const body = (await res.json()) as { ticketTypes: { code: string; available: number }[] };
  return body.ticketTypes.find((t) => t.code === code)?.available ?? -1;
}

async function apiGet(path: string, key = full.key): Promise<Response> {
  return await fetch(`${rig.server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
}

// A real browser on a shared 2-core machine: generous per-test time (no timing is asserted).
describe('the staff dashboard in a real browser', { timeout: 120_000 }, () => {
  it('is static, served with the strict CSP, without inline script or style, and the bundle has uPlot in it (no CDN)', async () => {
    for (const path of ['/admin/', '/admin', '/admin/dashboard.js', '/admin/dashboard.css', '/admin/admin.css']) {
      const res = await fetch(`${rig.server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy') ?? '').toContain("script-src 'self'");
    }
    const html = readFileSync(join(ROOT, 'public', 'admin', 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = readFileSync(join(ROOT, 'public', 'admin', 'dashboard.js'), 'utf8');
    expect(bundle).toContain('uplot');
    expect(bundle).not.toMatch(/localStorage/);
  });

  it('sign-in: a wrong or revoked key is refused in words; a full key sees every section; sign-out forgets the key', async () => {
    const { page, csp } = await openDashboard();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'signin');
    await page.fill('#api-key', 'sk_test_not_ours');
    await page.press('#api-key', 'Enter');
    expect(await page.textContent('#api-key-err')).toContain('bf_live_ or bf_test_');
    const revoked = await makeRevokedKey(['orders:read']);
    keysUsed.push(revoked.key);
    await page.fill('#api-key', revoked.key);
    await page.press('#api-key', 'Enter');
    await expect.poll(() => page.textContent('#api-key-err')).toContain('refused');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await signIn(page, full.key);
    const visible = await page.$$eval('#nav li:not([hidden]) a', (links) => links.map((a) => a.textContent));
    expect(visible).toEqual(['Overview', 'Orders', 'Transactions', 'Webhooks', 'Reconciliation', 'API keys']);
    expect(await page.textContent('#whoami')).toContain('dashboard full');
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([full.key]);
    await snapshotStorage(page);
    await page.click('#sign-out');
    await page.waitForSelector('#signin:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.textContent('#page-status')).toContain('signed out');
    expect(csp).toEqual([]);
  });

  it('search an order by attendee name, open it, refund 25 % with ticket release (double submit → one refund): refund, audit entry and availability', async () => {
    const { page, csp } = await openDashboard();
    await signIn(page, full.key);
    await page.click('#nav a[href="#/orders"]');
    await page.waitForSelector('#orders-q');
    await page.fill('#orders-q', `Dancer2 ${attendeeLastName}`);
    await page.press('#orders-q', 'Enter');
    await waitForOnlyRow(page, '#orders-table', sale.orderId);
    expect(await page.$$eval('#orders-table tbody tr', (rows) => rows.length)).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'orders');

    await page.click(`#orders-table a[href="#/orders/${sale.orderId}"]`);
    await page.waitForSelector('#refund-form');
    expect(await page.textContent('#view h1')).toBe(`Order ${sale.orderNumber}`);
    expect(await page.$$eval('#order-items tbody tr', (rows) => rows.map((r) => r.textContent))).toHaveLength(4);
    expect(await page.textContent('#order-items')).toContain(`Dancer2 ${attendeeLastName}`);
    expect(await page.$$eval('#order-payments tbody tr', (rows) => rows.length)).toBe(1);
    if (HAS_LEDGER) expect(await page.textContent('#ledger-balance')).toContain('agrees');
    else
      expect(await page.textContent('[data-unavailable="GET /api/orders/{id}/money"]')).toContain(
        'not available on this deployment',
      );
    expect(await seriousAxeViolations(page)).toEqual([]);

    const before = await availability('full_pass');
    const quarter = sale.totalCents / 4; // 20,000 → 5,000 minor units
    expect(Number.isInteger(quarter)).toBe(true);
    // Validation first: too many decimals and over the refundable amount are refused in words.
    await page.fill('#refund-amount', '12.345');
    await page.fill('#refund-reason', 'Buyer cannot come, partial refund agreed');
    await page.click('#refund-review');
    expect(await page.textContent('#refund-amount-err')).toContain('two decimals');
    await page.fill('#refund-amount', '999999');
    await page.click('#refund-review');
    expect(await page.textContent('#refund-amount-err')).toContain('At most $200.00');
    // Keyboard: amount in currency units, the release box with Space, review with Enter.
    await page.fill('#refund-amount', `${quarter / 100}.00`);
    await page.focus('#refund-release');
    await page.keyboard.press('Space');
    expect(await page.isChecked('#refund-release')).toBe(true);
    await page.click('#refund-review');
    await page.waitForSelector('#refund-confirm:not([hidden])');
    const summary = await page.textContent('#refund-summary');
    expect(summary).toContain(`Refund $50.00 of order ${sale.orderNumber}`);
    expect(summary).toContain('4 ticket(s) go back on sale');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'order-refund-confirm');

    const refundRequests: { key: string | undefined; body: string | null }[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/payments/refund')) {
        refundRequests.push({ key: request.headers()['idempotency-key'], body: request.postData() });
      }
    });
    // Double submit: the confirm button clicked twice in a row.
    await page.dblclick('#refund-confirm-button');
    await expect.poll(() => page.textContent('#order-note'), { timeout: 20_000 }).toContain('Refunded $50.00');
    await page.waitForSelector('#order-refunds tbody tr');

    const refunds = await db.queryMany<{ amountCents: number; releaseTickets: boolean; status: string }>(
      `SELECT amount_cents AS "amountCents", release_tickets AS "releaseTickets", status FROM refunds WHERE order_id = $1`,
      [sale.orderId],
    );
    expect(refunds).toEqual([{ amountCents: 5_000, releaseTickets: true, status: 'succeeded' }]);
    expect(refundRequests.length).toBeGreaterThanOrEqual(1);
    expect(new Set(refundRequests.map((r) => r.key)).size).toBe(1);
    expect(refundRequests[0]?.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(refundRequests[0]?.body ?? '{}')).toMatchObject({
      orderId: sale.orderId,
      amountCents: 5_000,
      releaseTickets: true,
    });

    expect(await page.textContent('#order-refunds tbody')).toContain('$50.00');
    expect(await page.textContent('#order-refunded')).toBe('$50.00');
    expect(await page.textContent('#order-refundable')).toBe('$150.00');
    await page.waitForSelector('#order-audit li[data-action="refund_requested"]');
    await page.waitForSelector('#order-audit li[data-action="tickets_released"]');
    if (HAS_LEDGER) expect(await page.textContent('#order-ledger')).toContain('refund');
    expect(await availability('full_pass')).toBe(before + 4);
    await shoot(page, 'order-detail');
    await snapshotStorage(page);

    // The same submission replayed by hand (a retry after a dropped answer) still makes no second refund.
    const again = await fetch(`${rig.server.url}/api/payments/refund`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${full.key}`,
        'content-type': 'application/json',
        'idempotency-key': refundRequests[0]?.key ?? '',
      },
      body: refundRequests[0]?.body ?? '',
    });
    expect(again.status).toBe(201);
    expect((await db.queryMany(`SELECT id FROM refunds WHERE order_id = $1`, [sale.orderId])).length).toBe(1);
    expect(csp).toEqual([]);
  });

  it('keyboard only: sign in, reach the nav, search, open an order and reach the refund form; tablet width has no serious axe violations', async () => {
    const { page } = await openDashboard({ width: 820, height: 1180 });
    // The sign-in field has the focus on load.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(full.key);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#nav:not([hidden])');
    /** Presses Tab until `matches` holds for the focused element (at most 40 times). */
    const tabTo = async (description: string, matches: () => boolean, key = 'Tab') => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press(key);
        if (await page.evaluate(matches)) return;
      }
      throw new Error(`Tab never reached ${description}`);
    };
    await tabTo('the Orders link', () => document.activeElement?.textContent === 'Orders');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#orders-q');
    await tabTo('the search field', () => document.activeElement?.id === 'orders-q');
    await page.keyboard.type(attendeeLastName);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#orders-table a[href="#/orders/${sale.orderId}"]`);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await tabTo('the order link', () => document.activeElement?.getAttribute('href')?.startsWith('#/orders/') === true);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#order-items');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await tabTo('the refund amount', () => document.activeElement?.id === 'refund-amount');
    await tabTo('the release box', () => document.activeElement?.id === 'refund-release');
    await tabTo('the review button', () => document.activeElement?.id === 'refund-review');
    await tabTo('the sign-out button', () => document.activeElement?.id === 'sign-out', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signin:not([hidden])');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('a refund the API refuses is explained in words, and nothing is refunded', async () => {
    const other = await paidStripeOrder(rig.sandboxes.stripe, { quantity: 1, priceCents: 3_000 });
    const { page } = await openDashboard();
    await signIn(page, full.key);
    await page.goto(`${rig.server.url}/admin/#/orders/${other.orderId}`);
    await page.waitForSelector('#refund-form');
    // Someone else refunds the whole order meanwhile: this page still offers $30.00.
    const res = await fetch(`${rig.server.url}/api/payments/refund`, {
      method: 'POST',
      headers: { authorization: `Bearer ${full.key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ orderId: other.orderId, reason: 'Full refund from the front desk' }),
    });
    expect(res.status).toBe(201);
    await page.fill('#refund-reason', 'Second refund attempt from the page');
    await page.click('#refund-review');
    await page.click('#refund-confirm-button');
    await expect.poll(() => page.textContent('#order-note')).toMatch(/cannot be refunded|more than can still be refunded/);
    expect(await page.getAttribute('#order-note', 'role')).toBe('alert');
    expect((await db.queryMany(`SELECT id FROM refunds WHERE order_id = $1`, [other.orderId])).length).toBe(1);
  });

  it('a refund whose answer is lost on the way back: Confirm again repeats the same submission (same key) → still one refund', async () => {
    const lost = await paidStripeOrder(rig.sandboxes.stripe, { quantity: 2, priceCents: 4_000 });
    const { page } = await openDashboard();
    await signIn(page, full.key);
    await page.goto(`${rig.server.url}/admin/#/orders/${lost.orderId}`);
    await page.waitForSelector('#refund-form');
    const keys: string[] = [];
    let dropped = false;
    await page.route('**/api/payments/refund', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (dropped) return await route.continue();
      dropped = true;
      await route.fetch(); // the server makes the refund ...
      await route.abort('connectionreset'); // ... and the answer never reaches the page
    });
    await page.fill('#refund-amount', '20.00');
    await page.fill('#refund-reason', 'Lost answer test, one ticket back');
    await page.click('#refund-review');
    await page.click('#refund-confirm-button');
    await expect.poll(() => page.textContent('#order-note')).toContain('No answer from the server');
    expect((await db.queryMany(`SELECT id FROM refunds WHERE order_id = $1`, [lost.orderId])).length).toBe(1);
    await page.click('#refund-confirm-button');
    await expect.poll(() => page.textContent('#order-note')).toContain('Refunded $20.00');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    const refunds = await db.queryMany<{ amountCents: number }>(
      `SELECT amount_cents AS "amountCents" FROM refunds WHERE order_id = $1`,
      [lost.orderId],
    );
    expect(refunds).toEqual([{ amountCents: 2_000 }]);
  });

  it('a key with only orders:read sees orders but no refund button, no keys page, no overview', async () => {
    const reader = await makeKey(['orders:read'], { name: 'orders reader' });
    const { page } = await openDashboard();
    await signIn(page, reader.key);
    const visible = await page.$$eval('#nav li:not([hidden]) a', (links) => links.map((a) => a.textContent));
    expect(visible).toEqual(['Orders']);
    await page.waitForSelector('#orders-table');
    await page.goto(`${rig.server.url}/admin/#/orders/${sale.orderId}`);
    await page.waitForSelector('#order-items');
    expect(await page.$('#refund-form')).toBeNull();
    expect(await page.$('#refund-review')).toBeNull();
    for (const [hash, section] of [
      ['#/keys', 'API keys'],
      ['#/overview', 'Overview'],
      ['#/transactions', 'Transactions'],
      ['#/webhooks', 'Webhooks'],
    ] as const) {
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await expect.poll(() => page.textContent('#page-status')).toContain(`cannot open ${section}`);
      expect(await page.$('#key-form')).toBeNull();
      expect(await page.$('#overview')).toBeNull();
    }
    await snapshotStorage(page);
  });

  it('a key revoked while signed in is sent back to sign-in on its next request, and forgotten', async () => {
    const doomed = await makeKey(['orders:read'], { name: 'doomed' });
    const { page } = await openDashboard();
    await signIn(page, doomed.key);
    await page.waitForSelector('#orders-table');
    await revokeApiKey(doomed.id, TEST_ACTOR);
    await page.fill('#orders-q', attendeeLastName);
    await page.press('#orders-q', 'Enter');
    await page.waitForSelector('#signin:not([hidden])');
    expect(await page.textContent('#page-status')).toContain('Sign in again');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.isHidden('#nav')).toBe(true);
    // A reload does not bring it back.
    await page.reload();
    await page.waitForSelector('#signin:not([hidden])');
  });

  it('replay a dead webhook from the inbox → it shows processed', async () => {
    const paid = await paidStripeOrder(rig.sandboxes.stripe, { quantity: 1, priceCents: 2_500 });
    const session = await db.queryOne<{ sessionId: string }>(
      `SELECT provider_session_id AS "sessionId" FROM payments WHERE order_id = $1`,
      [paid.orderId],
    );
    // The sandbox's signed checkout.session.completed reaches the app's webhook route; wait for it in the inbox.
    let eventRow: { id: string; providerEventId: string } | undefined;
    await expect
      .poll(
        async () => {
          eventRow = await db.queryOne<{ id: string; providerEventId: string }>(
            `SELECT id, provider_event_id AS "providerEventId" FROM webhook_events
             WHERE provider = 'stripe' AND event_type = 'checkout.session.completed' AND payload->'data'->'object'->>'id' = $1`,
            [session?.sessionId ?? ''],
          );
          return eventRow !== undefined;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    // It went dead (as after 12 failed attempts): status, last error, no next attempt.
    await db.query(
      `UPDATE webhook_events SET status = 'dead', attempts = 12, next_attempt_at = NULL, processed_at = NULL,
         last_error = 'NotYetApplicable: simulated outage (browser test)' WHERE id = $1`,
      [eventRow?.id],
    );
    const { page, csp } = await openDashboard();
    await signIn(page, full.key);
    await page.click('#nav a[href="#/webhooks"]');
    const row = `#wh-table [data-event="${eventRow?.id}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent('#wh-table caption')).toContain('Dead-letter');
    const tr = page.locator('#wh-table tbody tr', { has: page.locator(`[data-event="${eventRow?.id}"]`) });
    expect(await tr.textContent()).toContain('NotYetApplicable: simulated outage');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'webhooks');
    await page.click(`${row} button`);
    await page.waitForSelector(`${row} button.danger`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#wh-note')).toContain('now processed');
    expect(await db.queryOne<{ status: string }>(`SELECT status FROM webhook_events WHERE id = $1`, [eventRow?.id])).toEqual({
      status: 'processed',
    });
    expect(await page.textContent(`#wh-table [data-status]`)).toBeDefined();
    const statuses = await page.$$eval('#wh-table [data-status]', (nodes) => nodes.map((n) => n.getAttribute('data-status')));
    expect(statuses).toContain('processed');
    const audit = await db.queryOne<{ n: number }>(
      `SELECT count(*)::int AS n FROM payment_audit_log WHERE entity_type = 'webhook_event' AND entity_id = $1 AND action = 'webhook_replayed'`,
      [eventRow?.id],
    );
    expect(audit?.n).toBe(1);
    expect(csp).toEqual([]);
  });

  it('transactions: filter, pages, and the CSV download equals the API CSV of the same filter', async () => {
    const { page, context } = await openDashboard();
    await signIn(page, full.key);
    await page.click('#nav a[href="#/transactions"]');
    await page.waitForSelector('#tx-table, #tx-results p');
    await page.selectOption('#tx-provider', 'stripe');
    await page.fill('#tx-email', sale.email);
    await page.click('#tx-apply');
    await waitForOnlyRow(page, '#tx-table', sale.orderId);
    expect(await page.$$eval('#tx-table tbody tr', (rows) => rows.length)).toBe(1);
    expect(await page.isDisabled('#tx-next')).toBe(true);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'transactions');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#tx-csv')]);
    const path = await download.path();
    const downloaded = readFileSync(path, 'utf8');
    const api = await apiGet(`/api/payments/transactions?provider=stripe&email=${encodeURIComponent(sale.email)}&format=csv`);
    expect(api.status).toBe(200);
    expect(downloaded).toBe(await api.text());
    expect(downloaded.split('\r\n').filter(Boolean)).toHaveLength(2);
    expect(download.suggestedFilename()).toMatch(/^transactions-\d{4}-\d{2}-\d{2}\.csv$/);

    // Pages: with no filter there are more rows than one page of 25 only if the run made that many;
    // the cursor walk is checked on the stripe filter with the API's own page size.
    await page.evaluate(() => {
      location.hash = '#/transactions?provider=stripe';
    });
    await page.waitForSelector('#tx-table');
    const firstPage = await page.$$eval('#tx-table tbody tr', (rows) => rows.map((r) => r.textContent));
    const listed = (await (await apiGet('/api/payments/transactions?provider=stripe&limit=25')).json()) as {
      data: unknown[];
      nextCursor: string | null;
    };
    expect(firstPage).toHaveLength(listed.data.length);
    if (listed.nextCursor) {
      await page.click('#tx-next');
      await expect.poll(() => page.textContent('#tx-table caption')).toContain('page 2');
      expect(await page.isDisabled('#tx-prev')).toBe(false);
    }
    await context.close();
  });

  it('API keys: create one (secret shown once, copy button), it works; revoke it with a confirmation, it stops working', async () => {
    const { page, context } = await openDashboard();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: rig.server.url });
    await signIn(page, full.key);
    await page.click('#nav a[href="#/keys"]');
    await page.waitForSelector('#keys-table');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.fill('#key-name', 'door scanner');
    await page.check('#scope-orders-read');
    await page.fill('#key-expires', '30d');
    await page.click('#key-create');
    await page.waitForSelector('#key-secret');
    const secret = await page.inputValue('#key-secret');
    keysUsed.push(secret);
    expect(secret).toMatch(/^bf_(live|test)_[A-Za-z0-9]{16}_[A-Za-z0-9]{43}$/);
    await page.click('#key-copy');
    await expect.poll(() => page.textContent('#key-copy-note')).toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const who = await apiGet('/api/admin/whoami', secret);
    expect(who.status).toBe(200);
    expect(((await who.json()) as { apiKey: { scopes: string[]; name: string } }).apiKey).toMatchObject({
      name: 'door scanner',
      scopes: ['orders:read'],
    });
    await shoot(page, 'keys');
    await page.click('#key-hide');
    expect(await page.$('#key-secret')).toBeNull();

    const keyId = (
      await db.queryOne<{ id: string }>(`SELECT id FROM api_keys WHERE name = 'door scanner' ORDER BY created_at DESC LIMIT 1`)
    )?.id;
    const cell = `#keys-table [data-key="${keyId}"]`;
    await page.click(`${cell} button`);
    await page.waitForSelector(`${cell} button.danger`);
    expect(await page.textContent(cell)).toContain('for good?');
    await page.click(`${cell} button.danger`);
    await expect.poll(() => page.textContent('#keys-note')).toContain('Revoked door scanner');
    expect((await apiGet('/api/admin/whoami', secret)).status).toBe(401);
    await snapshotStorage(page);
  });

  it('overview and reconciliation say "not available on this deployment" when their endpoint answers 404', async () => {
    const { page } = await openDashboard();
    await signIn(page, full.key);
    await page.goto(`${rig.server.url}/admin/#/overview?event=${slug}`);
    await page.waitForSelector('#overview');
    if (HAS_ANALYTICS) {
      await page.waitForSelector('[data-figure="gross"]');
    } else {
      await page.waitForSelector('[data-unavailable]');
      expect(await page.textContent('#overview')).toContain('not available on this deployment');
    }
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'overview');
    await page.goto(`${rig.server.url}/admin/#/reconciliation`);
    await page.waitForSelector('#reconciliation');
    if (HAS_RECONCILIATION) {
      await page.waitForSelector('#reconciliation > *');
    } else {
      await page.waitForSelector('#reconciliation [data-unavailable]');
      expect(await page.textContent('#reconciliation')).toContain('not available on this deployment');
    }
    expect(await seriousAxeViolations(page)).toEqual([]);
    await shoot(page, 'reconciliation');
  });

  it.skipIf(!HAS_ANALYTICS)(
    'overview: the figures equal the analytics API for the same range (SKIPPED until ledger lands api/analytics/summary.ts)',
    async () => {
      const { page } = await openDashboard();
      await signIn(page, full.key);
      await page.goto(`${rig.server.url}/admin/#/overview?event=${slug}`);
      await page.waitForSelector('[data-figure="gross"]');
      const summary = (await (await apiGet(`/api/analytics/summary?event=${slug}`)).json()) as {
        money: { grossCents: number; netCents: number; feesCents: number; refundsCents: number };
        slidingScale: { discountCents: number; buckets: { bucket: string; revenueCents: number }[] };
        capacity: { sold: number; capacity: number }[];
      };
      const cents = async (key: string) => Number(await page.getAttribute(`[data-figure="${key}"]`, 'data-cents'));
      expect(await cents('gross')).toBe(summary.money.grossCents);
      expect(await cents('net')).toBe(summary.money.netCents);
      expect(await cents('fees')).toBe(summary.money.feesCents);
      expect(await cents('refunds')).toBe(summary.money.refundsCents);
      expect(await cents('discount')).toBe(summary.slidingScale.discountCents);
      expect(summary.money.grossCents).toBeGreaterThan(0);
      const sold = summary.capacity.reduce((n, t) => n + t.sold, 0);
      const capacity = summary.capacity.reduce((n, t) => n + t.capacity, 0);
      expect(await page.textContent('[data-figure="tickets"]')).toBe(`${sold} / ${capacity}`);
      expect(await page.$$eval('#ov-buckets tbody tr', (rows) => rows.length)).toBe(summary.slidingScale.buckets.length);
      await page.waitForSelector('#ov-chart canvas');
      expect(await seriousAxeViolations(page)).toEqual([]);
      await shoot(page, 'overview-figures');
    },
  );

  it.skipIf(!HAS_RECONCILIATION)(
    "reconciliation: a day's report, mismatches first, linked to their orders (SKIPPED until recon lands api/reconciliation.ts)",
    async () => {
      // The recon branch's own test kit (reporting sandbox, books, reconcileDay), loaded at run time: these
      // modules only exist once that branch is merged, and this test only runs then.
      const servers = await importOptional<{
        startStripeReportingSandbox(): Promise<{
          url: string;
          close(): Promise<void>;
          store: {
            generateDay(o: { day: string; charges: number; refundEvery: number }): {
              charges: { chargeId: string }[];
              refunds: unknown[];
            };
            changeAmount(chargeId: string, amount: number): void;
          };
        }>;
      }>('sandbox/reporting-servers.ts');
      const kit = await importOptional<{ booksForStripe(charges: unknown[], refunds: unknown[]): Promise<unknown> }>(
        'test/reconciliation/support.ts',
      );
      const recon = await importOptional<{ reconcileDay(input: { provider: string; day: string }): Promise<unknown> }>(
        'lib/reconciliation/reconcile-day.ts',
      );
      const days = await importOptional<{ isolatedDay(): string }>('test/support/recon-books.ts');
      const saved = { key: process.env.STRIPE_SECRET_KEY, base: process.env.STRIPE_API_BASE };
      const reporting = await servers.startStripeReportingSandbox();
      const day = days.isolatedDay();
      try {
        process.env.STRIPE_SECRET_KEY = 'sk_test_reconciliation_51BoulderFest';
        process.env.STRIPE_API_BASE = reporting.url;
        resetConfigForTests();
        const generated = reporting.store.generateDay({ day, charges: 6, refundEvery: 3 });
        await kit.booksForStripe(generated.charges, generated.refunds);
        reporting.store.changeAmount(generated.charges[2]?.chargeId ?? '', 1);
        await recon.reconcileDay({ provider: 'stripe', day });
      } finally {
        for (const [name, value] of [
          ['STRIPE_SECRET_KEY', saved.key],
          ['STRIPE_API_BASE', saved.base],
        ] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        resetConfigForTests();
        await reporting.close();
      }
      const report = (await (await apiGet(`/api/reconciliation?date=${day}&provider=stripe`)).json()) as {
        providers: {
          provider: string;
          summary: { mismatches: number };
          mismatches: { orderId: string | null; explanation: string }[];
        }[];
      };
      const stripeReport = report.providers[0];
      expect(stripeReport?.mismatches.length).toBeGreaterThan(0);

      const { page } = await openDashboard();
      await signIn(page, full.key);
      await page.goto(`${rig.server.url}/admin/#/reconciliation?date=${day}&provider=stripe`);
      await page.waitForSelector('#rc-mismatches-stripe');
      expect(await page.$$eval('#rc-mismatches-stripe tbody tr.mismatch', (rows) => rows.length)).toBe(
        stripeReport?.mismatches.length,
      );
      for (const m of stripeReport?.mismatches ?? []) {
        expect(await page.textContent('#rc-mismatches-stripe')).toContain(m.explanation);
        if (m.orderId) expect(await page.$(`#rc-mismatches-stripe a[href="#/orders/${m.orderId}"]`)).not.toBeNull();
      }
      // Mismatches come first, before the totals and payouts.
      const captions = await page.$$eval('#reconciliation caption', (c) => c.map((x) => x.textContent ?? ''));
      expect(captions[0]).toMatch(/^Mismatches \(/);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await shoot(page, 'reconciliation-report');
      // A day without a run says so in words.
      await page.goto(`${rig.server.url}/admin/#/reconciliation?date=2014-01-01`);
      await expect.poll(() => page.textContent('#reconciliation')).toContain('No reconciliation');
    },
  );

  it('the API key never appeared in any URL the browser requested, nor in localStorage or a cookie', () => {
    expect(requestLog.length).toBeGreaterThan(20);
    expect(storageLog.length).toBeGreaterThan(2);
    expect(keysUsed.length).toBeGreaterThan(3);
    for (const key of keysUsed) {
      const secretPart = key.split('_').at(-1) ?? key;
      for (const url of requestLog) {
        expect(url).not.toContain(key);
        expect(url).not.toContain(secretPart);
        expect(decodeURIComponent(url)).not.toContain(secretPart);
      }
      for (const snapshot of storageLog) expect(snapshot).not.toContain(secretPart);
    }
    for (const snapshot of storageLog) expect(JSON.parse(snapshot).local).toEqual({});
  });
});
