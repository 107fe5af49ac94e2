import { describe, expect, it } from 'vitest';
import * as tickets from '../../api/tickets.js';
import { db } from '../../lib/db/client.js';
import { createEvent, createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';

const hour = 3_600_000;

describe('GET /api/tickets?event=<slug>', () => {
  it('lists the active ticket types with price, availability, sale window, max per order and sliding scale; short shared cache', async () => {
    const { event, types } = await createEventWithTicketTypes({
      weekend: {
        name: 'Full Weekend Pass',
        priceCents: 6500,
        capacity: 100,
        sold: 60,
        held: 15,
        slidingScale: true,
        maxPerOrder: 6,
      },
      social: { name: 'Saturday Social', priceCents: 2500, capacity: 10, sold: 10 },
      later: { salesStartAt: new Date(Date.now() + 24 * hour) },
      retired: { isActive: false },
    });
    const res = await call(tickets.GET, { path: '/api/tickets', query: { event: event.slug } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/s-maxage=\d+/);
    expect(res.headers.get('cache-control')).toMatch(/^public/);
    expect(res.body.event).toMatchObject({ slug: event.slug, currency: 'USD', onSale: true });
    expect(res.body.ticketTypes.map((t: any) => t.code)).toEqual(['weekend', 'social', 'later']);
    expect(res.body.ticketTypes[0]).toEqual({
      code: 'weekend',
      name: 'Full Weekend Pass',
      description: null,
      priceCents: 6500,
      currency: 'USD',
      available: 25,
      soldOut: false,
      onSale: true,
      salesStartAt: null,
      salesEndAt: null,
      maxPerOrder: 6,
      slidingScale: true,
      slidingScaleMaxPercent: 75,
    });
    expect(res.body.ticketTypes[1]).toMatchObject({
      available: 0,
      soldOut: true,
      onSale: false,
      slidingScale: false,
      slidingScaleMaxPercent: 0,
    });
    expect(res.body.ticketTypes[2]).toMatchObject({ onSale: false, salesStartAt: expect.any(String) });
    expect(types.retired.isActive).toBe(false);
  });

  it('availability is never negative, even if capacity was lowered below what is sold and held', async () => {
    const { event, types } = await createEventWithTicketTypes({ pass: { capacity: 10, sold: 6, held: 4 } });
    // Staff lower capacity below sold + held: the CHECK refuses that, so the counters can never go negative.
    await expect(db.query('UPDATE ticket_types SET capacity = 5 WHERE id = $1', [types.pass.id])).rejects.toThrow();
    const res = await call(tickets.GET, { query: { event: event.slug } });
    expect(res.body.ticketTypes[0].available).toBe(0);
  });

  it('404 for an unknown or draft event, 400 without a valid slug; CORS for the festival site', async () => {
    const draft = await createEvent({ status: 'draft' });
    expect((await call(tickets.GET, { query: { event: 'no-such-event-x' } })).status).toBe(404);
    expect((await call(tickets.GET, { query: { event: draft.slug } })).status).toBe(404);
    expect((await call(tickets.GET, {})).status).toBe(400);
    expect((await call(tickets.GET, { query: { event: '../etc/passwd' } })).status).toBe(400);
    const site = 'https://www.alocubanoboulderfest.org';
    const { event } = await createEventWithTicketTypes({ pass: {} });
    const res = await call(tickets.GET, { query: { event: event.slug }, headers: { origin: site } });
    expect(res.headers.get('access-control-allow-origin')).toBe(site);
    expect((await call(tickets.POST, { method: 'POST', body: {} })).status).toBe(405);
  });

  it('a closed event is listed but nothing is on sale', async () => {
    const { event } = await createEventWithTicketTypes({ pass: { capacity: 10 } }, { status: 'closed' });
    const res = await call(tickets.GET, { query: { event: event.slug } });
    expect(res.status).toBe(200);
    expect(res.body.event.onSale).toBe(false);
    expect(res.body.ticketTypes[0]).toMatchObject({ available: 10, onSale: false });
  });
});
