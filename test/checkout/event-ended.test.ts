import { describe, expect, it } from 'vitest';
import * as checkout from '../../api/payments/checkout-session.js';
import * as tickets from '../../api/tickets.js';
import { db } from '../../lib/db/client.js';
import { eventHasEnded, isEventOnSale } from '../../lib/checkout/sales-window.js';
import { demoFestivalDates, seedDemoData } from '../../scripts/lib/seed.js';
import { checkoutBody, createEventWithTicketTypes, ticketCounters } from '../support/factories.js';
import { call } from '../support/http.js';
import { useProviderSandboxes } from '../support/providers.js';

/** Sales end when the event does (lib/checkout/sales-window.ts), and the demo festival is always ahead. */

useProviderSandboxes();

describe('an event whose end has passed is not on sale', () => {
  it('the rule: on_sale and not ended', () => {
    const endsAt = new Date('2026-05-17T23:00:00Z');
    expect(eventHasEnded({ endsAt }, new Date('2026-05-17T22:59:59Z'))).toBe(false);
    expect(eventHasEnded({ endsAt }, endsAt)).toBe(true);
    expect(isEventOnSale({ status: 'on_sale', endsAt }, new Date('2026-05-01T00:00:00Z'))).toBe(true);
    expect(isEventOnSale({ status: 'on_sale', endsAt }, new Date('2026-06-01T00:00:00Z'))).toBe(false);
    expect(isEventOnSale({ status: 'closed', endsAt }, new Date('2026-05-01T00:00:00Z'))).toBe(false);
  });

  it('catalog: the event and every type show as not on sale; checkout: SALES_CLOSED, nothing held', async () => {
    const { event, types } = await createEventWithTicketTypes(
      { pass: { priceCents: 5000 } },
      { startsAt: new Date(Date.now() - 3 * 86_400_000), endsAt: new Date(Date.now() - 60_000) },
    );
    const catalog = await call(tickets.GET, { path: '/api/tickets', query: { event: event.slug } });
    expect(catalog.status).toBe(200);
    expect(catalog.body.event).toMatchObject({ onSale: false, ended: true });
    expect(catalog.body.ticketTypes.map((t: { onSale: boolean }) => t.onSale)).toEqual([false]);
    const res = await call(checkout.POST, { method: 'POST', body: checkoutBody(event, [{ ticketType: 'pass', quantity: 1 }]) });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'SALES_CLOSED', details: { event: event.slug } });
    expect(await ticketCounters(types.pass.id)).toMatchObject({ held: 0, sold: 0 });
  });

  it('the demo seed dates its festival ahead of any day of the year, Friday to Sunday', async () => {
    for (const day of ['2026-01-01', '2026-05-16', '2026-12-31', '2027-02-28']) {
      const today = new Date(`${day}T12:00:00Z`);
      const { startsAt, endsAt } = demoFestivalDates(today);
      expect(startsAt.getTime()).toBeGreaterThan(today.getTime() + 50 * 86_400_000);
      expect(startsAt.getUTCDay()).toBe(5);
      expect(endsAt.getTime()).toBeGreaterThan(startsAt.getTime());
    }
    const { event } = await seedDemoData(db);
    const catalog = await call(tickets.GET, { path: '/api/tickets', query: { event: event.slug } });
    expect(catalog.body.event).toMatchObject({ onSale: true, ended: false });
  });
});
