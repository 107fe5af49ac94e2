import { db } from '../db/client.js';
import { findEventBySlug } from '../db/models/events.js';
import { listTicketAvailability, listTicketTypesForEvent } from '../db/models/ticket-types.js';
import { AppError } from '../errors.js';
import type { Currency } from '../money.js';
import { MAX_SLIDING_SCALE_PERCENT } from './pricing.js';
import { eventHasEnded, isEventOnSale } from './sales-window.js';

/**
 * GET /api/tickets?event=<slug>: the checkout page's catalogue. Availability is
 * capacity - sold - live holds (holds whose time has run out are not counted: checkout reclaims
 * them on demand), never negative. Inactive ticket types are not listed; draft events do not exist.
 */

export interface CatalogTicketType {
  code: string;
  name: string;
  description: string | null;
  priceCents: number;
  currency: Currency;
  available: number;
  soldOut: boolean;
  onSale: boolean;
  salesStartAt: string | null;
  salesEndAt: string | null;
  maxPerOrder: number;
  slidingScale: boolean;
  /** 0..this percent off for sliding-scale types (0 otherwise). */
  slidingScaleMaxPercent: number;
}

export interface TicketCatalog {
  event: {
    slug: string;
    name: string;
    venue: string | null;
    timezone: string;
    startsAt: string;
    endsAt: string;
    currency: Currency;
    onSale: boolean;
    /** The event's end has passed: nothing is sold any more (lib/checkout/sales-window.ts). */
    ended: boolean;
  };
  ticketTypes: CatalogTicketType[];
  generatedAt: string;
}

export async function getTicketCatalog(slug: string, now = new Date()): Promise<TicketCatalog> {
  const event = await findEventBySlug(db, slug);
  if (!event || event.status === 'draft') throw new AppError('NOT_FOUND', 'No such event');
  const [types, availability] = await Promise.all([
    listTicketTypesForEvent(db, event.id),
    listTicketAvailability(db, { eventId: event.id }),
  ]);
  const byId = new Map(availability.map((a) => [a.id, a]));
  const eventOnSale = isEventOnSale(event, now);
  return {
    event: {
      slug: event.slug,
      name: event.name,
      venue: event.venue,
      timezone: event.timezone,
      startsAt: event.startsAt.toISOString(),
      endsAt: event.endsAt.toISOString(),
      currency: event.currency,
      onSale: eventOnSale,
      ended: eventHasEnded(event, now),
    },
    ticketTypes: types
      .filter((t) => t.isActive)
      .map((t) => {
        const a = byId.get(t.id);
        // In use: taken, less the holds whose time has run out (checkout reclaims those).
        const inUse = a ? Math.max(0, a.taken - a.expiredHeld) : t.taken;
        const available = Math.max(0, t.capacity - inUse);
        const inWindow = (!t.salesStartAt || now >= t.salesStartAt) && (!t.salesEndAt || now < t.salesEndAt);
        return {
          code: t.code,
          name: t.name,
          description: t.description,
          priceCents: t.priceCents,
          currency: t.currency,
          available,
          soldOut: available === 0,
          onSale: eventOnSale && inWindow && available > 0,
          salesStartAt: t.salesStartAt?.toISOString() ?? null,
          salesEndAt: t.salesEndAt?.toISOString() ?? null,
          maxPerOrder: t.maxPerOrder,
          slidingScale: t.slidingScale,
          slidingScaleMaxPercent: t.slidingScale ? MAX_SLIDING_SCALE_PERCENT : 0,
        };
      }),
    generatedAt: now.toISOString(),
  };
}
