import type { Queryable } from '../client.js';
import type { Currency } from '../../money.js';

/** events: festival editions. */
export interface FestivalEvent {
  id: string;
  slug: string;
  name: string;
  venue: string | null;
  timezone: string;
  startsAt: Date;
  endsAt: Date;
  currency: Currency;
  status: 'draft' | 'on_sale' | 'closed' | 'archived';
}

const COLUMNS = `id, slug, name, venue, timezone, starts_at AS "startsAt", ends_at AS "endsAt", currency, status`;

export async function findEventBySlug(q: Queryable, slug: string): Promise<FestivalEvent | undefined> {
  return await q.queryOne<FestivalEvent>(`SELECT ${COLUMNS} FROM events WHERE slug = $1`, [slug]);
}

export async function findEventById(q: Queryable, id: string): Promise<FestivalEvent | undefined> {
  return await q.queryOne<FestivalEvent>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [id]);
}

export interface NewEvent {
  slug: string;
  name: string;
  venue?: string;
  timezone?: string;
  startsAt: Date;
  endsAt: Date;
  currency?: Currency;
  status?: FestivalEvent['status'];
}

/** Inserts or, for an existing slug, updates the descriptive fields (seeds are re-runnable). */
export async function upsertEvent(q: Queryable, event: NewEvent): Promise<FestivalEvent> {
  const row = await q.queryOne<FestivalEvent>(
    `INSERT INTO events (slug, name, venue, timezone, starts_at, ends_at, currency, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, venue = EXCLUDED.venue, timezone = EXCLUDED.timezone,
       starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, status = EXCLUDED.status
     RETURNING ${COLUMNS}`,
    [
      event.slug,
      event.name,
      event.venue ?? null,
      event.timezone ?? 'America/Denver',
      event.startsAt,
      event.endsAt,
      event.currency ?? 'USD',
      event.status ?? 'on_sale',
    ],
  );
  if (!row) throw new Error('upsertEvent returned no row');
  return row;
}
