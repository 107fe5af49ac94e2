import { describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { reclaimExpiredHolds } from '../../lib/checkout/holds.js';
import { checkoutBody, createEventWithTicketTypes, expireHoldNow, ticketCounters } from '../support/factories.js';
import { centsOf, fillCheckout, screenshots, seriousAxeViolations, setSlidingScale, useBrowserRig } from './support.js';

/**
 * Issue 11 "Must show": the buyer's journey from the checkout page, in Debian's chromium. Every test
 * starts on the checkout page (public/index.html) of its own event.
 */

const rig = useBrowserRig();

async function festival() {
  return await createEventWithTicketTypes({
    pass: {
      name: 'Full Festival Pass',
      description: 'All workshops and socials',
      priceCents: 6499,
      slidingScale: true,
      capacity: 40,
      maxPerOrder: 6,
    },
    vip: { name: 'VIP Pass', priceCents: 12_000, slidingScale: false, capacity: 10, maxPerOrder: 2 },
    last: { name: 'Last-minute Pass', priceCents: 5000, slidingScale: true, capacity: 1, maxPerOrder: 2 },
  });
}

async function openCheckout(slug: string, viewport?: { width: number; height: number }) {
  const opened = await rig.newPage(viewport);
  await opened.page.goto(`${rig.server.url}/?event=${slug}`);
  await opened.page.waitForSelector('#checkout:not([hidden])');
  return opened;
}

async function availability(slug: string, code: string): Promise<number> {
  const res = await fetch(`${rig.server.url}/api/tickets?event=${slug}`);
  const body = (await res.json()) as { ticketTypes: { code: string; available: number }[] };
  return body.ticketTypes.find((t) => t.code === code)?.available ?? -1;
}

async function ordersOf(email: string) {
  return await db.queryMany<{ id: string; status: string; totalCents: number }>(
    `SELECT o.id, o.status, o.total_cents AS "totalCents" FROM orders o JOIN customers c ON c.id = o.customer_id
     WHERE c.email = $1 ORDER BY o.created_at`,
    [email],
  );
}

const uniqueEmail = (tag: string) => `${tag}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.test`;

// A real browser on a shared 2-core machine: generous per-test time (no timing is asserted).
describe('the buyer journey in a real browser', { timeout: 120_000 }, () => {
  it('is served with a strict CSP (vercel.json headers, honoured by the local server) and the default return pages exist', async () => {
    for (const path of ['/', '/tickets/success', '/tickets/cancel', '/assets/checkout.js']) {
      const res = await fetch(`${rig.server.url}${path}`);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    for (const path of ['/', '/tickets/success/', '/tickets/cancel/']) {
      const html = await (await fetch(`${rig.server.url}${path}`)).text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\sstyle=|<style/);
    }
  });

  it('(a) two tickets, 20 % sliding scale, attendee names, card 4242 → the success page shows the receipt with the right total', async () => {
    const { event } = await festival();
    const { page, cspViolations } = await openCheckout(event.slug);
    expect(await seriousAxeViolations(page)).toEqual([]);
    // Quantities are bounded by what remains and the max per order.
    expect(await page.getAttribute('#qty-pass', 'max')).toBe('6');
    expect(await page.getAttribute('#qty-last', 'max')).toBe('1');
    await page.fill('#qty-last', '5');
    await page.press('#qty-last', 'Tab');
    expect(await page.inputValue('#qty-last')).toBe('1');
    expect(await page.textContent('#err-last')).toBe('Only 1 left, so at most 1.');
    await page.fill('#qty-pass', '9');
    await page.press('#qty-pass', 'Tab');
    expect(await page.inputValue('#qty-pass')).toBe('6');
    expect(await page.textContent('#err-pass')).toBe('At most 6 per order.');
    await page.fill('#qty-last', '0');
    expect(await page.isVisible('#sliding')).toBe(true);
    const email = uniqueEmail('a');
    await fillCheckout(page, {
      quantities: { pass: 2 },
      percent: 20,
      buyer: { firstName: 'Ana', lastName: 'García', email },
      attendees: [
        { firstName: 'Ana', lastName: 'García' },
        { firstName: 'Luis', lastName: 'Pérez' },
      ],
    });
    // 6499 - floor(6499 × 20 / 100) = 6499 - 1299 = 5200 per ticket.
    expect(await page.textContent('#sum-total')).toBe('$104.00');
    expect(await page.textContent('#net-pass')).toContain('$52.00');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'checkout');
    await page.click('#pay');
    await page.waitForURL(/\/pay\//);
    expect(await page.textContent('#total')).toContain('104.00');
    await page.fill('input[name="card"]', '4242 4242 4242 4242');
    await page.fill('input[name="name"]', 'Ana García');
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/tickets\/success\?/);
    expect(new URL(page.url()).searchParams.get('order_id')).toBeTruthy();
    expect(page.url()).not.toContain('accessToken');
    await page.waitForSelector('#receipt:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#r-total')).toBe('$104.00');
    expect(await page.textContent('#r-subtotal')).toBe('$129.98');
    expect(await page.textContent('#r-discount')).toBe('−$25.98');
    expect(await page.textContent('#r-discount-label')).toContain('20 %');
    expect(await page.textContent('#r-provider')).toContain('Stripe');
    expect((await page.textContent('#r-paid-at'))?.trim()).not.toBe('—');
    const rows = await page.$$eval('#r-items tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows.join('|')).toContain('Ana García');
    expect(rows.join('|')).toContain('Luis Pérez');
    // The token stayed in this tab's sessionStorage, nowhere else.
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: Object.keys(sessionStorage) }));
    expect(storage.local).toBe(0);
    expect(storage.session.some((k) => k.startsWith('bf-order-token:'))).toBe(true);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'success');
    const [order] = await ordersOf(email);
    expect(order).toMatchObject({ status: 'completed', totalCents: 10_400 });
    expect(cspViolations).toEqual([]);
  });

  it('(b) card 4000 0000 0000 0002 is declined at Stripe, cancel → the cancel page, the tickets are back at once', async () => {
    const { event } = await festival();
    const { page, cspViolations } = await openCheckout(event.slug);
    const email = uniqueEmail('b');
    const before = await availability(event.slug, 'pass');
    await fillCheckout(page, { quantities: { pass: 3 }, buyer: { firstName: 'Bea', lastName: 'Ruiz', email } });
    await page.click('#pay');
    await page.waitForURL(/\/pay\//);
    expect(await availability(event.slug, 'pass')).toBe(before - 3);
    await page.fill('input[name="card"]', '4000 0000 0000 0002');
    await page.click('button[type="submit"]');
    expect(await page.textContent('#message')).toContain('declined');
    await page.click('#cancel');
    await page.waitForURL(/\/tickets\/cancel\?/);
    await page.waitForFunction(() => document.getElementById('cancel-heading')?.textContent === 'Order cancelled');
    expect(await page.textContent('#cancel-text')).toContain('back on sale');
    expect(await availability(event.slug, 'pass')).toBe(before);
    const [order] = await ordersOf(email);
    expect(order?.status).toBe('cancelled');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshots(page, 'cancel');
    expect(cspViolations).toEqual([]);
  });

  it('(c) PayPal approve → the success page captures → paid', async () => {
    const { event } = await festival();
    const { page, cspViolations } = await openCheckout(event.slug);
    const email = uniqueEmail('c');
    await fillCheckout(page, {
      quantities: { vip: 1, pass: 1 },
      percent: 50,
      provider: 'paypal',
      buyer: { firstName: 'Carla', lastName: 'Díaz', email },
    });
    // VIP has a fixed price: 12000 + (6499 - 3249) = 15250.
    expect(await page.textContent('#sum-total')).toBe('$152.50');
    await page.click('#pay');
    await page.waitForURL(/\/approve\//);
    await page.click('button[value="approve"]');
    await page.waitForURL(/\/tickets\/success\?/);
    await page.waitForSelector('#receipt:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#r-total')).toBe('$152.50');
    expect(await page.textContent('#r-provider')).toBe('PayPal');
    const [order] = await ordersOf(email);
    expect(order).toMatchObject({ status: 'completed', totalCents: 15_250 });
    const captures = rig.sandboxes.paypal.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/capture'));
    expect(captures.length).toBeGreaterThanOrEqual(1);
    expect(cspViolations).toEqual([]);
  });

  it('(d) one ticket left, two browsers buy it at once → one pays, the other sees the sold-out message', async () => {
    const { event, types } = await festival();
    const first = await openCheckout(event.slug);
    const second = await openCheckout(event.slug);
    const emails = [uniqueEmail('d1'), uniqueEmail('d2')];
    await fillCheckout(first.page, {
      quantities: { last: 1 },
      buyer: { firstName: 'Dani', lastName: 'Uno', email: emails[0] ?? '' },
    });
    await fillCheckout(second.page, {
      quantities: { last: 1 },
      buyer: { firstName: 'Dora', lastName: 'Dos', email: emails[1] ?? '' },
    });
    await Promise.all([first.page.click('#pay'), second.page.click('#pay')]);
    const outcome = async (page: typeof first.page) =>
      await Promise.race([
        page.waitForURL(/\/pay\//).then(() => 'redirected' as const),
        page.waitForSelector('#err-last:not(:empty)').then(() => 'sold-out' as const),
      ]);
    const results = await Promise.all([outcome(first.page), outcome(second.page)]);
    expect([...results].sort()).toEqual(['redirected', 'sold-out']);
    const winner = results[0] === 'redirected' ? first.page : second.page;
    const loser = results[0] === 'redirected' ? second.page : first.page;
    expect(await loser.textContent('#err-last')).toMatch(/sold out/i);
    expect(await loser.textContent('#form-error')).toContain('no longer available');
    expect(await loser.getAttribute('#qty-last', 'aria-invalid')).toBe('true');
    await winner.fill('input[name="card"]', '4242424242424242');
    await winner.click('button[type="submit"]');
    await winner.waitForSelector('#receipt:not([hidden])', { timeout: 30_000 });
    expect(await ticketCounters(types.last.id)).toMatchObject({ sold: 1, held: 0 });
    const statuses = [...(await ordersOf(emails[0] ?? '')), ...(await ordersOf(emails[1] ?? ''))].map((o) => o.status);
    expect(statuses).toEqual(['completed']);
  });

  it('(e) the API answers 429 and 502 → the page shows words, not a code', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug);
    await fillCheckout(page, { quantities: { pass: 1 } });
    // 502: the real PROVIDER_UNAVAILABLE, Stripe's sandbox failing every session create.
    rig.sandboxes.stripe.failNext({ match: '/v1/checkout/sessions', kind: 'error', status: 500, times: 10 });
    await page.click('#pay');
    await page.waitForSelector('#provider-err:not(:empty)');
    const providerWords = await page.textContent('#provider-err');
    expect(providerWords).toContain('Try again, or choose PayPal');
    expect(await page.textContent('#form-error')).toContain('choose the other payment method');
    expect(`${providerWords} ${await page.textContent('#form-error')}`).not.toMatch(/PROVIDER_UNAVAILABLE|502/);
    expect(await page.isEnabled('#pay')).toBe(true);
    rig.sandboxes.stripe.reset();
    // 429: the real rate limit, this IP's checkout bucket used up.
    process.env.RATE_LIMIT_ENABLED = 'true';
    const { resetConfigForTests } = await import('../../lib/config.js');
    resetConfigForTests();
    try {
      let limited = false;
      // A well-formed body for a type the event does not sell: each attempt is counted by checkout's first
      // statement (a malformed body is refused before any database work and counts for nothing), then 400.
      const counted = JSON.stringify(checkoutBody(event, [{ ticketType: 'nosuchtype', quantity: 1 }]));
      for (let i = 0; i < 30 && !limited; i++) {
        const res = await fetch(`${rig.server.url}/api/payments/checkout-session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: counted,
        });
        limited = res.status === 429;
      }
      expect(limited).toBe(true);
      await page.click('#pay');
      await page.waitForFunction(() => /Too many tries/.test(document.getElementById('form-error')?.textContent ?? ''));
      const words = (await page.textContent('#form-error')) ?? '';
      expect(words).toMatch(/try again in \d+ (second|minute)s?/);
      expect(words).not.toMatch(/RATE_LIMITED|429/);
    } finally {
      process.env.RATE_LIMIT_ENABLED = 'false';
      resetConfigForTests();
    }
  });

  it('a double-click on the pay button makes one order', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug);
    const email = uniqueEmail('dbl');
    await fillCheckout(page, { quantities: { pass: 2 }, buyer: { firstName: 'Eva', lastName: 'Doble', email } });
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/api/payments/checkout-session')) posts.push(request.url());
    });
    await page.dblclick('#pay');
    await page.waitForURL(/\/pay\//);
    expect(posts).toHaveLength(1);
    expect(await ordersOf(email)).toHaveLength(1);
  });

  it('a network error after the server took the order: the retry reuses the Idempotency-Key → still one order; a changed order gets a new key', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug);
    const email = uniqueEmail('net');
    await fillCheckout(page, { quantities: { pass: 1 }, buyer: { firstName: 'Nico', lastName: 'Red', email } });
    const keys: string[] = [];
    let drops = 1;
    await page.route('**/api/payments/checkout-session', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (drops > 0) {
        drops -= 1;
        await route.fetch(); // the server gets it and creates the order ...
        await route.abort('connectionreset'); // ... but the answer never reaches the browser
        return;
      }
      await route.continue();
    });
    await page.click('#pay');
    await page.waitForFunction(() =>
      /could not reach the ticket office/.test(document.getElementById('form-error')?.textContent ?? ''),
    );
    expect(await page.isEnabled('#pay')).toBe(true);
    expect(await ordersOf(email)).toHaveLength(1);
    await page.click('#pay');
    await page.waitForURL(/\/pay\//);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(await ordersOf(email)).toHaveLength(1);
    // A new attempt (another order, other content) from a fresh page gets a fresh key.
    const again = await openCheckout(event.slug);
    const otherKeys: string[] = [];
    again.page.on('request', (request) => {
      if (request.url().includes('/api/payments/checkout-session')) otherKeys.push(request.headers()['idempotency-key'] ?? '');
    });
    await fillCheckout(again.page, { quantities: { pass: 2 }, buyer: { firstName: 'Nico', lastName: 'Red', email } });
    await again.page.click('#pay');
    await again.page.waitForURL(/\/pay\//);
    expect(otherKeys).toHaveLength(1);
    expect(otherKeys[0]).not.toBe(keys[0]);
    expect(await ordersOf(email)).toHaveLength(2);
  });

  it('the price shown equals the totalCents the server returns, at every sliding-scale step, on an eligible and an ineligible type', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug);
    const steps = Array.from({ length: 16 }, (_, i) => i * 5);
    for (const code of ['pass', 'vip']) {
      await fillCheckout(page, { quantities: { pass: code === 'pass' ? 3 : 0, vip: code === 'vip' ? 2 : 0 } });
      for (const percent of steps) {
        await setSlidingScale(page, percent);
        const shownText = (await page.textContent('#sum-total')) ?? '';
        const shownCents = Number(await page.getAttribute('#sum-total', 'data-total-cents'));
        expect(centsOf(shownText)).toBe(shownCents);
        const res = await fetch(`${rig.server.url}/api/payments/checkout-session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            event: event.slug,
            items: [{ ticketType: code, quantity: code === 'pass' ? 3 : 2 }],
            customer: { email: uniqueEmail('price'), firstName: 'Pia', lastName: 'Precio' },
            slidingScalePercent: percent,
            provider: 'stripe',
          }),
        });
        expect(res.status).toBe(201);
        const created = (await res.json()) as { totalCents: number; orderId: string; accessToken: string };
        expect(shownCents, `${code} at ${percent} %`).toBe(created.totalCents);
        // Give the tickets back for the next step.
        await fetch(`${rig.server.url}/api/orders/${created.orderId}/cancel`, {
          method: 'POST',
          headers: { authorization: `Bearer ${created.accessToken}` },
        });
      }
    }
    // The ineligible type's total never moves with the slider.
    await setSlidingScale(page, 75);
    expect(await page.textContent('#sum-total')).toBe('$240.00');
  });

  it('works with the keyboard alone: every control is reached with Tab, the order is placed with Enter', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug, { width: 375, height: 812 });
    const email = uniqueEmail('kbd');
    const tabTo = async (id: string) => {
      for (let i = 0; i < 60; i++) {
        if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`#${id} not reachable with Tab`);
    };
    await tabTo('qty-pass');
    await page.keyboard.press('ArrowUp');
    await tabTo('sliding-scale');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#sliding-value')).toBe('10 %');
    await tabTo('att-pass-0-first');
    await page.keyboard.type('Kiko');
    await tabTo('att-pass-0-last');
    await page.keyboard.type('Teclado');
    await tabTo('buyer-first');
    await page.keyboard.type('Kiko');
    await tabTo('buyer-last');
    await page.keyboard.type('Teclado');
    await tabTo('buyer-email');
    await page.keyboard.type(email);
    await tabTo('provider-stripe');
    await tabTo('pay');
    // 6499 - floor(649.9) = 5850
    expect(await page.textContent('#sum-total')).toBe('$58.50');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/pay\//);
    expect(await ordersOf(email)).toEqual([expect.objectContaining({ status: 'pending', totalCents: 5850 })]);
  });

  it('errors in the form are shown beside their fields, and focus goes to the first one', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug);
    await page.click('#pay');
    expect(await page.textContent('#err-pass')).toBe('Choose at least one ticket.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('qty-pass');
    await page.fill('#qty-pass', '1');
    await page.fill('#buyer-email', 'not-an-email');
    await page.click('#pay');
    expect(await page.textContent('#att-pass-0-first-err')).toBe('Please enter a first name.');
    expect(await page.textContent('#buyer-email-err')).toContain('valid email address');
    expect(await page.getAttribute('#buyer-email', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#form-error')).toContain('Please correct the fields marked below.');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('the success page says so when the order ended unpaid (hold expired), and offers to start again', async () => {
    const { event, types } = await festival();
    const { page } = await openCheckout(event.slug);
    const email = uniqueEmail('exp');
    await fillCheckout(page, { quantities: { pass: 1 }, buyer: { firstName: 'Eli', lastName: 'Tarde', email } });
    await page.click('#pay');
    await page.waitForURL(/\/pay\//);
    const [order] = await ordersOf(email);
    if (!order) throw new Error('no order');
    await expireHoldNow(order.id);
    await reclaimExpiredHolds({ ticketTypeId: types.pass.id, actor: { type: 'system' }, reason: 'test' });
    await page.goto(`${rig.server.url}/tickets/success?order_id=${order.id}`);
    await page.waitForSelector('#ended:not([hidden])');
    expect(await page.textContent('#ended-text')).toContain('reservation ran out');
    expect(await page.getAttribute('#ended a', 'href')).toBe('/');
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('the success page polls with backoff while the payment is unconfirmed and gives up after a few minutes, with the order number', async () => {
    const { event } = await festival();
    const { page } = await openCheckout(event.slug);
    const email = uniqueEmail('slow');
    await fillCheckout(page, { quantities: { pass: 1 }, buyer: { firstName: 'Lola', lastName: 'Lenta', email } });
    await page.click('#pay');
    await page.waitForURL(/\/pay\//);
    const [order] = await ordersOf(email);
    if (!order) throw new Error('no order');
    const number = await db.queryOne<{ n: string }>('SELECT order_number AS n FROM orders WHERE id = $1', [order.id]);
    // The buyer is back on the success page but no webhook ever comes (the browser's clock is ours).
    await page.clock.install();
    const reads: number[] = [];
    page.on('request', (request) => {
      if (request.url().includes(`/api/orders/${order.id}`)) reads.push(Date.now());
    });
    await page.goto(`${rig.server.url}/tickets/success?order_id=${order.id}`);
    await page.waitForSelector('#confirming:not([hidden])');
    expect(await page.textContent('#c-number')).toBe(number?.n);
    for (let i = 0; i < 60 && !(await page.isVisible('#gave-up')); i++) {
      await page.clock.fastForward(5_000);
      await page.waitForTimeout(50);
    }
    expect(await page.isVisible('#gave-up')).toBe(true);
    expect(await page.textContent('#g-number')).toBe(number?.n);
    // Backoff: 1 s growing to 10 s apart over 3 minutes is about two dozen reads, not one a second.
    expect(reads.length).toBeGreaterThan(5);
    expect(reads.length).toBeLessThan(40);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('a success page opened without the token says how to find the order, without asking the API about it', async () => {
    const { page } = await rig.newPage({ width: 375, height: 812 });
    const apiCalls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/')) apiCalls.push(request.url());
    });
    await page.goto(`${rig.server.url}/tickets/success?order_id=00000000-0000-4000-8000-000000000000`);
    await page.waitForSelector('#no-access:not([hidden])');
    expect(await page.textContent('#no-access')).toContain('email');
    expect(apiCalls).toEqual([]);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });
});
