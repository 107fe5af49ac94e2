import type { RequestContext } from './handler.js';

/**
 * The one query-string reader: the query string as a plain object for schema validation (last value
 * wins), with empty values dropped: `?email=` means no email filter, and a required parameter left
 * empty is reported missing.
 */
export function readQuery(ctx: Pick<RequestContext, 'url'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of ctx.url.searchParams.entries()) {
    if (value !== '') out[key] = value;
  }
  return out;
}
