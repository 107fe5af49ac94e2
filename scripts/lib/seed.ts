import type { Queryable } from '../../lib/db/client.js';
import { type FestivalEvent, upsertEvent } from '../../lib/db/models/events.js';
import { type TicketType, upsertTicketType } from '../../lib/db/models/ticket-types.js';

/**
 * Demo data for `npm run dev`: the A Lo Cubano Boulder Fest edition and its five ticket types.
 * Re-runnable: existing rows are updated, the counter (taken) is never touched.
 *
 * The festival is dated relative to today (a Friday-to-Sunday weekend about 8 weeks ahead, see
 * demoFestivalDates), so `npm run dev` always shows a festival on sale, whatever the day of the year:
 * an event whose end has passed is not on sale (lib/checkout/sales-window.ts). The slug stays the same
 * so the checkout page and bookmarks keep working across re-seeds.
 */

export const DEMO_EVENT_SLUG = 'boulder-fest-2026';

export const DEMO_TICKET_TYPES = [
  {
    code: 'full_festival',
    name: 'Full Festival Pass',
    priceCents: 15_000,
    capacity: 500,
    slidingScale: true,
    maxPerOrder: 10,
    description: 'All workshops, socials and performances, Friday to Sunday',
  },
  {
    code: 'day_pass',
    name: 'Day Pass',
    priceCents: 6_500,
    capacity: 800,
    slidingScale: true,
    maxPerOrder: 10,
    description: "One day's workshops and that evening's social",
  },
  {
    code: 'workshop_only',
    name: 'Workshops Only',
    priceCents: 4_500,
    capacity: 300,
    slidingScale: true,
    maxPerOrder: 10,
    description: 'All weekend workshops, no evening socials',
  },
  {
    code: 'social_only',
    name: 'Evening Socials Only',
    priceCents: 2_500,
    capacity: 400,
    slidingScale: true,
    maxPerOrder: 10,
    description: 'Friday and Saturday night socials',
  },
  {
    code: 'vip',
    name: 'VIP Pass',
    priceCents: 30_000,
    capacity: 50,
    slidingScale: false,
    maxPerOrder: 4,
    description: "Full festival, reserved seating at performances and the artists' dinner",
  },
] as const;

/** The Friday 22:00 UTC (16:00 in Boulder) at least 8 weeks after `today`, to the Sunday after it, 05:00 UTC on Monday. */
export function demoFestivalDates(today: Date = new Date()): { startsAt: Date; endsAt: Date } {
  const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 56, 22, 0, 0));
  start.setUTCDate(start.getUTCDate() + ((5 - start.getUTCDay() + 7) % 7));
  const endsAt = new Date(start.getTime() + (2 * 24 + 7) * 3_600_000);
  return { startsAt: start, endsAt };
}

export async function seedDemoData(
  q: Queryable,
  today: Date = new Date(),
): Promise<{ event: FestivalEvent; ticketTypes: TicketType[] }> {
  const { startsAt, endsAt } = demoFestivalDates(today);
  const event = await upsertEvent(q, {
    slug: DEMO_EVENT_SLUG,
    name: `A Lo Cubano Boulder Fest ${startsAt.getUTCFullYear()}`,
    venue: 'Avalon Ballroom, Boulder, Colorado',
    timezone: 'America/Denver',
    startsAt,
    endsAt,
    currency: 'USD',
    status: 'on_sale',
  });
  const ticketTypes: TicketType[] = [];
  for (const [index, type] of DEMO_TICKET_TYPES.entries()) {
    ticketTypes.push(
      await upsertTicketType(q, {
        eventId: event.id,
        code: type.code,
        name: type.name,
        description: type.description,
        priceCents: type.priceCents,
        currency: 'USD',
        capacity: type.capacity,
        slidingScale: type.slidingScale,
        maxPerOrder: type.maxPerOrder,
        sortOrder: index,
      }),
    );
  }
  return { event, ticketTypes };
}
