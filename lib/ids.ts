/** Our ids are PostgreSQL uuids; anything else (a provider's id in our field, junk in a URL) is not one of ours. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one uuid check (request schemas use zod's `z.uuid()`). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
