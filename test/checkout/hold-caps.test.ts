import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import { clientKey, platformClientIp } from '../../lib/http/client-address.js';
import { useProviderSandboxes } from '../support/providers.js';
import { checkoutBody, createEventWithTicketTypes, eventFootprint, uniqueEmail } from '../support/factories.js';
import { call } from '../support/http.js';

/** Issue 18: no single client can hold the festival. Caps: 6 tickets per client address, 4 per email. */

useProviderSandboxes();

beforeAll(() => {
  Object.assign(process.env, { HOLD_CAP_PER_CLIENT: '6', HOLD_CAP_PER_EMAIL: '4' });
  resetConfigForTests();
});
afterAll(() => {
  delete process.env.HOLD_CAP_PER_CLIENT;
  delete process.env.HOLD_CAP_PER_EMAIL;
  resetConfigForTests();
});

const rand = () => Math.floor(Math.random() * 0xfffe + 1).toString(16);
const ipv4 = () => `198.18.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;

async function buy(slug: string, quantity: number, ip: string | undefined, email = uniqueEmail('cap')) {
  return await call(checkout.POST, {
    method: 'POST',
    path: '/api/payments/checkout-session',
    headers: ip ? { 'x-forwarded-for': ip } : {},
    body: checkoutBody({ slug }, [{ ticketType: 'ga', quantity }], {
      customer: { email, firstName: 'Bot', lastName: 'Holder' },
    }),
  });
}

async function expectCapRefusal(res: Awaited<ReturnType<typeof buy>>, per: 'client' | 'email') {
  expect(res.status, res.text.slice(0, 300)).toBe(429);
  expect(res.body.error.code).toBe('HOLD_LIMIT_REACHED');
  expect(res.body.error.message).toMatch(/at most \d+ may be held at once/);
  expect(res.body.error.details).toMatchObject({ per });
}

describe('address normalisation', () => {
  it('IPv6 counts per /64; ::ffff:a.b.c.d is a.b.c.d; only the trusted header entry counts', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(clientKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('not an ip')).toBeUndefined();
    const config = { clientIpHeader: 'x-forwarded-for', trustedProxyHops: 0 };
    // The client can write the left-most entries; the platform's entry is the right-most.
    expect(platformClientIp(new Headers({ 'x-forwarded-for': '1.2.3.4, 203.0.113.7' }), config)).toBe('203.0.113.7');
    expect(
      platformClientIp(new Headers({ 'x-forwarded-for': '1.2.3.4, 203.0.113.7, 10.0.0.2' }), { ...config, trustedProxyHops: 1 }),
    ).toBe('203.0.113.7');
    expect(
      platformClientIp(new Headers({ 'cf-connecting-ip': '203.0.113.8', 'x-forwarded-for': '1.1.1.1' }), {
        clientIpHeader: 'cf-connecting-ip',
        trustedProxyHops: 0,
      }),
    ).toBe('203.0.113.8');
    expect(platformClientIp(new Headers({ 'x-forwarded-for': 'evil' }), config)).toBeUndefined();
  });
});

describe('caps on live held tickets', () => {
  it.each([
    [
      'IPv4 and its mapped IPv6 forms',
      () => {
        const ip = ipv4();
        const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
        return [ip, `::ffff:${ip}`, `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`];
      },
    ],
    [
      'addresses rotated inside one IPv6 /64',
      () => {
        const prefix = `2001:db8:${rand()}:${rand()}`;
        return [`${prefix}::1`, `${prefix}:1:2:3:4`, `${prefix}:ffff::9`];
      },
    ],
  ])('by address (%s): over the cap → 429, nothing more held; another client still buys', async (_name, variants) => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 100 } });
    const [first, second, third] = variants() as [string, string, string];
    expect((await buy(event.slug, 3, first)).status).toBe(201);
    expect((await buy(event.slug, 3, second)).status).toBe(201);
    const before = await eventFootprint(event.id);
    expect(before.held).toBe(6);
    await expectCapRefusal(await buy(event.slug, 1, third), 'client');
    expect(await eventFootprint(event.id)).toEqual(before);
    expect((await buy(event.slug, 3, ipv4())).status).toBe(201);
  });

  it('by email (any case, from any address): over the cap → 429, nothing more held', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 100 } });
    const email = uniqueEmail('capmail');
    expect((await buy(event.slug, 2, ipv4(), email)).status).toBe(201);
    expect((await buy(event.slug, 2, ipv4(), email.toUpperCase())).status).toBe(201);
    const before = await eventFootprint(event.id);
    await expectCapRefusal(await buy(event.slug, 1, ipv4(), email), 'email');
    expect(await eventFootprint(event.id)).toEqual(before);
  });

  it('an expired or finished hold no longer counts', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 100 } });
    const ip = ipv4();
    const first = await buy(event.slug, 4, ip);
    expect(first.status).toBe(201);
    await expectCapRefusal(await buy(event.slug, 3, ip), 'client');
    await db.query(`UPDATE orders SET hold_expires_at = now() - interval '1 minute' WHERE id = $1`, [first.body.orderId]);
    expect((await buy(event.slug, 3, ip)).status).toBe(201);
  });

  it('concurrent checkouts from one address never overshoot the cap', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 100 } });
    const ip = ipv4();
    const answers = await Promise.all(Array.from({ length: 8 }, () => buy(event.slug, 2, ip)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429).every((a) => a.body.error.code === 'HOLD_LIMIT_REACHED')).toBe(true);
    expect((await eventFootprint(event.id)).held).toBe(6);
  });
});

describe('the hold-exhaustion attack, at small scale', () => {
  it('one bot address with throwaway emails cannot hold a 40-ticket festival; a real buyer still gets tickets', async () => {
    const { event } = await createEventWithTicketTypes({ ga: { priceCents: 1_000, capacity: 40 } });
    const bot = `2001:db8:${rand()}:${rand()}`;
    const answers = [];
    // The attack script: 2 tickets per checkout, a new email and a new address (same /64) every time.
    for (let i = 0; i < 20; i++) answers.push(await buy(event.slug, 2, `${bot}::${(i + 1).toString(16)}`));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(17);
    const { held } = await eventFootprint(event.id);
    expect(held).toBe(6);
    const buyer = await buy(event.slug, 4, ipv4());
    expect(buyer.status).toBe(201);
  });
});
