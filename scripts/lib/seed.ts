import type { Queryable } from '../../lib/db/client.js';
import { type FestivalEvent, upsertEvent } from '../../lib/db/models/events.js';
import { type TicketType, upsertTicketType } from '../../lib/db/models/ticket-types.js';

/**
 * Demo data for `npm run dev`: the A Lo Cubano Boulder Fest 2026 edition and its five ticket types.
 * Re-runnable: existing rows are updated, counters (sold, held) are never touched.
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

export async function seedDemoData(q: Queryable): Promise<{ event: FestivalEvent; ticketTypes: TicketType[] }> {
  const event = await upsertEvent(q, {
    slug: DEMO_EVENT_SLUG,
    name: 'A Lo Cubano Boulder Fest 2026',
    venue: 'Avalon Ballroom, Boulder, Colorado',
    timezone: 'America/Denver',
    startsAt: new Date('2026-05-15T16:00:00-06:00'),
    endsAt: new Date('2026-05-17T23:00:00-06:00'),
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
