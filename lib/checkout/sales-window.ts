import type { FestivalEvent } from '../db/models/events.js';

/**
 * When an event can sell tickets: THE rule (catalog and checkout both ask here).
 *
 *  - the event's status is `on_sale`, and
 *  - its end (`ends_at`) has not passed: an event whose end has passed is not on sale, whatever
 *    its status still says (nobody has to remember to close it).
 *
 * Per ticket type, the sale window (`sales_start_at` ≤ now < `sales_end_at`) applies on top.
 */
export function eventHasEnded(event: Pick<FestivalEvent, 'endsAt'>, now: Date = new Date()): boolean {
  return now.getTime() >= event.endsAt.getTime();
}

export function isEventOnSale(event: Pick<FestivalEvent, 'status' | 'endsAt'>, now: Date = new Date()): boolean {
  return event.status === 'on_sale' && !eventHasEnded(event, now);
}
