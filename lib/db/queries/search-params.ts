import { z } from 'zod';
import { AppError } from '../../errors.js';

/**
 * Building blocks for admin search/list query strings. Everything is bounded and validated before it
 * reaches SQL (which is parameterised anyway): control characters, oversized values, malformed dates,
 * ids and cursors are a 400, never a database error.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Free text up to `max` characters, trimmed, without control characters (NUL breaks PostgreSQL text). */
export const searchText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !CONTROL.test(value), 'must not contain control characters')
    .transform((value) => value.trim())
    .pipe(z.string().min(1, 'must not be blank'));

export const emailParam = searchText(254).pipe(z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address'));

/** An ISO date (`2026-05-01`, read as UTC midnight) or date-time with offset. */
export const dateParam = z
  .string()
  .max(40)
  .refine((value) => z.iso.date().safeParse(value).success || z.iso.datetime({ offset: true }).safeParse(value).success, {
    message: 'must be an ISO date (YYYY-MM-DD) or date-time',
  })
  .transform((value) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value))
  .refine((date) => !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 2000 && date.getUTCFullYear() <= 2200, {
    message: 'is out of range',
  });

/** Minor units in a query string: digits only, at most a billion. */
export const centsParam = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a whole number of minor units')
  .transform(Number)
  .pipe(z.number().int().min(0).max(1_000_000_000));

export const limitParam = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((value) => value ?? fallback);

/** One value or a comma-separated list of values from `values`. */
export const listOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .max(200)
    .transform((value) => value.split(',').map((item) => item.trim()))
    .pipe(z.array(z.enum(values)).min(1).max(values.length));

/** Keyset cursor over (created_at desc, id desc): the exact timestamp text (microseconds) and the id. */
export interface Cursor {
  at: string;
  id: string;
}

/** A real instant: the text must name a date and time that exist (no 2026-02-30, no 25:00), years 2000–2200. */
export function isRealCursorInstant(at: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/.exec(at);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    year >= 2000 &&
    year <= 2200 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

const CursorShape = z.strictObject({
  at: z.string().refine(isRealCursorInstant),
  id: z.uuid(),
});

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  if (value.length > 200 || !/^[A-Za-z0-9_-]+$/.test(value)) throw badCursor();
  try {
    const parsed = CursorShape.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    if (!parsed.success) throw badCursor();
    return parsed.data;
  } catch {
    throw badCursor();
  }
}

export const cursorParam = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor this API returned')
  .meta({
    description:
      "Opaque: the previous page's `nextCursor`, unchanged (base64url, at most 200 characters). Anything else, or a cursor naming no real instant, is 400 VALIDATION_ERROR.",
  })
  .transform((value, ctx) => {
    try {
      return decodeCursor(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
  });

function badCursor(): AppError {
  return new AppError('VALIDATION_ERROR', 'Invalid query: cursor', {
    details: { fields: [{ path: 'cursor', message: 'is not a cursor this API returned' }] },
  });
}

/** SQL text giving a timestamptz column as the cursor's exact UTC text. */
export const cursorTimestamp = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Escapes LIKE/ILIKE wildcards so user text matches literally (used with ESCAPE '\\'). */
export function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** Collects WHERE conditions and their parameters. */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds a parameter and returns its placeholder ($n). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(sql: string): void {
    this.parts.push(sql);
  }

  where(): string {
    return this.parts.length === 0 ? '' : `WHERE ${this.parts.join(' AND ')}`;
  }
}
