import { getConfig } from '../config.js';
import type { Queryable } from '../db/client.js';
import { recentRequestOutcomes, requestOutcomeCounts } from '../db/models/request-outcomes.js';
import type { OperationalMetrics } from '../db/queries/operational-metrics.js';
import { COUNTED_ROUTES, type CountedRoute, outcomeClass, type RouteGroup, routesOf } from './request-metrics.js';

/**
 * The request outcome figures GET /api/admin/metrics and the alert cron read back from request_outcomes
 * (written by lib/ops/request-metrics.ts). Classes come from the one code → status map: `ok` (< 400),
 * client errors (4xx: expected refusals, shown by code), server errors (5xx: the error rate).
 */

type RequestWindow = OperationalMetrics['requests']['routes'][number]['lastHour'];

const rate = (part: number, total: number) => (total === 0 ? null : Math.round((part / total) * 10_000) / 10_000);

function windowOf(byCode: Record<string, number>): RequestWindow {
  const sums = { ok: 0, clientError: 0, serverError: 0 };
  for (const [code, n] of Object.entries(byCode)) sums[outcomeClass(code)] += n;
  const total = sums.ok + sums.clientError + sums.serverError;
  return {
    total,
    ok: sums.ok,
    clientErrors: sums.clientError,
    serverErrors: sums.serverError,
    errorRate: rate(sums.serverError, total),
    byCode,
  };
}

/** Every counted route (with zeros when it had no answer): the last hour and the last 24 hours, by code. */
export async function requestFigures(q: Queryable): Promise<OperationalMetrics['requests']> {
  const routes = Object.keys(COUNTED_ROUTES) as CountedRoute[];
  const rows = await requestOutcomeCounts(q, routes);
  return {
    flushIntervalMs: getConfig().requestMetrics.flushIntervalMs,
    routes: routes.map((route) => {
      const hour: Record<string, number> = {};
      const day: Record<string, number> = {};
      // `ok` first, then the codes in alphabetical order (the query's order).
      for (const row of [...rows].sort((a, b) => Number(b.code === 'ok') - Number(a.code === 'ok'))) {
        if (row.route !== route) continue;
        if (row.lastHour > 0) hour[row.code] = row.lastHour;
        day[row.code] = row.last24Hours;
      }
      return { route, group: COUNTED_ROUTES[route], lastHour: windowOf(hour), last24Hours: windowOf(day) };
    }),
  };
}

export interface RecentErrorShare {
  /** Answers in the window: the newest whole minutes of the last hour holding at least the configured number. */
  requests: number;
  serverErrors: number;
}

/** The 5xx share of a route group's newest answers (the error-rate alerts). */
export async function recentErrorShare(
  q: Queryable,
  group: RouteGroup,
  options: { requests?: number; routes?: readonly string[] } = {},
): Promise<RecentErrorShare> {
  const rows = await recentRequestOutcomes(q, {
    routes: options.routes ?? routesOf(group),
    requests: options.requests ?? getConfig().alerts.errorRateRequests,
    lookbackMinutes: 60,
  });
  let requests = 0;
  let serverErrors = 0;
  for (const row of rows) {
    requests += row.count;
    if (outcomeClass(row.code) === 'serverError') serverErrors += row.count;
  }
  return { requests, serverErrors };
}
