import { z } from 'zod';
import type { Queryable } from '../db/client.js';
import { findEventBySlug, type FestivalEvent } from '../db/models/events.js';
import { localMidnight, localToday } from '../db/queries/analytics-rollups.js';
import { AppError } from '../errors.js';

/**
 * Query parameters of the analytics reports, read and checked once: a bad value is a 400 that names
 * the field (unknown groupBy, from after to, over 400 days at hour grain, an unknown time zone).
 *
 * Dates: `YYYY-MM-DD` is a day in the report's time zone (the event's, Boulder: America/Denver;
 * `tz` overrides it); `to` as a date includes that whole day. A date-time with an offset is an
 * instant, taken to the hour (from rounds down, to rounds up): the rollups are hourly.
 */

export const GROUP_BY = ['hour', 'day', 'week', 'month'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const MAX_HOUR_GRAIN_DAYS = 400;
export const MAX_RANGE_DAYS = 3660;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

const dateOrInstant = z
  .string()
  .max(40)
  .refine((v) => z.iso.date().safeParse(v).success || z.iso.datetime({ offset: true }).safeParse(v).success, {
    message: 'must be an ISO date (YYYY-MM-DD) or a date-time with offset',
  });

export function isKnownTimeZone(zone: string): boolean {
  if (zone.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The reports' query string (summary and revenue). */
export const ReportQuery = z.strictObject({
  event: z.string().max(63).regex(SLUG, 'must be an event slug'),
  from: dateOrInstant.optional(),
  to: dateOrInstant.optional(),
  groupBy: z.enum(GROUP_BY).optional(),
  tz: z.string().max(64).refine(isKnownTimeZone, 'is not a known time zone (IANA name, e.g. America/Denver)').optional(),
  provider: z.enum(['stripe', 'paypal']).optional(),
  format: z.enum(['json', 'csv']).optional(),
});

export interface ReportRange {
  event: FestivalEvent;
  timeZone: string;
  /** Inclusive start and exclusive end, whole hours. */
  from: Date;
  to: Date;
  groupBy: GroupBy;
  provider: 'stripe' | 'paypal' | undefined;
  format: 'json' | 'csv';
}

function fieldError(path: string, message: string): AppError {
  return new AppError('VALIDATION_ERROR', `Invalid query: ${path} ${message}`, {
    details: { fields: [{ path, message }] },
  });
}

const HOUR = 3_600_000;

async function instantOf(q: Queryable, value: string, zone: string, end: boolean): Promise<Date> {
  if (DATE.test(value)) return await localMidnight(q, value, zone, end ? 1 : 0);
  const at = new Date(value).getTime();
  return new Date(end ? Math.ceil(at / HOUR) * HOUR : Math.floor(at / HOUR) * HOUR);
}

export interface ParseOptions {
  /** With no from/to: the whole history (summary) or the 30 days up to today (series). */
  defaultRange: 'all' | 'last30days';
}

export async function parseReportQuery(
  q: Queryable,
  params: Record<string, string>,
  options: ParseOptions,
): Promise<ReportRange> {
  const parsed = ReportQuery.safeParse(params);
  if (!parsed.success) {
    const fields = parsed.error.issues.slice(0, 20).map((i) => ({
      path: i.path.length > 0 ? i.path.map(String).join('.') : '(query)',
      message: i.message,
    }));
    throw new AppError('VALIDATION_ERROR', `Invalid query: ${fields.map((f) => f.path).join(', ')}`, {
      details: { fields },
    });
  }
  const query = parsed.data;
  const event = await findEventBySlug(q, query.event);
  if (!event) throw new AppError('NOT_FOUND', `No event ${query.event}`);
  const timeZone = query.tz ?? event.timezone;
  const groupBy = query.groupBy ?? 'day';

  let from: Date;
  let to: Date;
  if (query.from === undefined && query.to === undefined && options.defaultRange === 'all') {
    from = new Date('2000-01-01T00:00:00Z');
    to = new Date('2200-01-01T00:00:00Z');
  } else {
    const toText = query.to ?? (await localToday(q, timeZone));
    to = await instantOf(q, toText, timeZone, true);
    if (query.from !== undefined) from = await instantOf(q, query.from, timeZone, false);
    else if (DATE.test(toText)) from = await localMidnight(q, toText, timeZone, -29);
    else from = new Date(to.getTime() - 30 * 24 * HOUR);
  }
  if (from.getTime() > to.getTime()) throw fieldError('from', 'must not be after to');
  if (from.getTime() === to.getTime()) throw fieldError('to', 'must be after from (the range is empty)');
  const days = (to.getTime() - from.getTime()) / (24 * HOUR);
  if (groupBy === 'hour' && days > MAX_HOUR_GRAIN_DAYS) {
    throw fieldError(
      'groupBy',
      `hour covers at most ${MAX_HOUR_GRAIN_DAYS} days (the range from..to has ${Math.ceil(days)}); use day, week or month`,
    );
  }
  if (options.defaultRange !== 'all' && days > MAX_RANGE_DAYS) {
    throw fieldError('to', `the range covers at most ${MAX_RANGE_DAYS} days`);
  }
  return { event, timeZone, from, to, groupBy, provider: query.provider, format: query.format ?? 'json' };
}
