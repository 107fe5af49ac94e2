import { DEFAULT_ORIGIN } from './expectations.js';
import type { PlannedCall } from './runner.js';
import type { ExpectationTable, HttpMethod, MethodExpectation, RequestSpec, RouteExpectation } from './types.js';

/** From the expectation table to the calls a function process makes: paths, table lookup, request bodies. */

/** `/<route>` (`api/orders/index` → `/api/orders`) with `[param]` segments filled in, plus the query Vercel's routing adds for them. */
export function defaultPathFor(route: string): string {
  const params: string[] = [];
  const path = `/${route}`
    .replace(/\/index$/, '')
    .split('/')
    .map((segment) => {
      const match = /^\[(?:\.\.\.)?([^\]]+)\]$/.exec(segment);
      if (!match) return segment;
      params.push(match[1] ?? 'param');
      return 'smoke';
    })
    .join('/');
  return params.length === 0 ? path : `${path}?${params.map((p) => `${encodeURIComponent(p)}=smoke`).join('&')}`;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (ch === '*') re += '[^/]*';
    else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The table entry for a route: exact key, else the longest matching glob. */
export function findExpectation(table: ExpectationTable, route: string): { key: string; entry: RouteExpectation } | undefined {
  if (Object.hasOwn(table, route)) return { key: route, entry: table[route] as RouteExpectation };
  const globs = Object.keys(table)
    .filter((key) => key.includes('*') && globToRegExp(key).test(route))
    .sort((a, b) => b.length - a.length);
  const key = globs[0];
  return key === undefined ? undefined : { key, entry: table[key] as RouteExpectation };
}

export function normalise(value: number | MethodExpectation): MethodExpectation {
  return typeof value === 'number' ? { status: value } : value;
}

/** The call the child makes for a request spec (a non-string body is sent as JSON). */
export function plannedCall(method: HttpMethod, spec: RequestSpec, defaultPath: string): PlannedCall {
  const headers: Record<string, string> = { ...(spec.headers ?? {}) };
  let body: string | undefined;
  if (spec.body !== undefined) {
    if (typeof spec.body === 'string') body = spec.body;
    else {
      body = JSON.stringify(spec.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  const url = spec.url ?? new URL(spec.path ?? defaultPath, DEFAULT_ORIGIN).toString();
  return { method, url, headers, ...(body === undefined ? {} : { body }) };
}

export function bodyMatches(body: string, expected: string | RegExp): boolean {
  // search(), not test(): a /g or /y RegExp keeps no lastIndex state between calls.
  return typeof expected === 'string' ? body.includes(expected) : body.search(expected) !== -1;
}
