import type { Queryable } from '../client.js';
import type { Provider } from './orders.js';

/**
 * payment_provider_checks: what the stale-payment sweeper last heard from the provider about a
 * checkout, and the sweeper's candidates (checkouts not settled, old enough, not asked too recently).
 */

export interface SweeperCandidate {
  paymentId: string;
  orderId: string;
  provider: Provider;
  sessionId: string;
}

/**
 * Checkouts still pending, processing or expired (order and payment), started between `lookbackHours`
 * and `staleAfterMinutes` ago, never settled by a provider answer, and not asked within their back-off
 * (5, 10, 20 … minutes after the last question, at most 6 hours); least recently asked first.
 */
export async function findSweeperCandidates(
  q: Queryable,
  input: { staleAfterMinutes: number; lookbackHours: number; limit: number },
): Promise<SweeperCandidate[]> {
  return await q.queryMany<SweeperCandidate>(
    `SELECT p.id AS "paymentId", p.order_id AS "orderId", p.provider, p.provider_session_id AS "sessionId"
     FROM payments p
     JOIN orders o ON o.id = p.order_id
     LEFT JOIN payment_provider_checks c ON c.payment_id = p.id
     WHERE p.provider_session_id IS NOT NULL
       AND p.status IN ('pending', 'processing', 'expired')
       AND o.status IN ('pending', 'processing', 'expired')
       AND p.created_at <= now() - make_interval(mins => $1)
       AND p.created_at >= now() - make_interval(hours => $2)
       AND (c.payment_id IS NULL OR (NOT c.settled AND
            c.last_checked_at <= now() - least(interval '6 hours', interval '5 minutes' * power(2, least(c.checks, 8) - 1))))
     ORDER BY c.last_checked_at NULLS FIRST, p.created_at
     LIMIT $3`,
    [input.staleAfterMinutes, input.lookbackHours, input.limit],
  );
}

/** Records what the provider said (`settled`: final, not asked again). */
export async function recordProviderCheck(
  q: Queryable,
  input: { paymentId: string; providerStatus: string; outcome: string; settled: boolean },
): Promise<void> {
  await q.query(
    `INSERT INTO payment_provider_checks (payment_id, provider_status, outcome, settled) VALUES ($1, $2, $3, $4)
     ON CONFLICT (payment_id) DO UPDATE SET provider_status = EXCLUDED.provider_status, outcome = EXCLUDED.outcome,
       settled = EXCLUDED.settled, checks = payment_provider_checks.checks + 1, last_checked_at = now()`,
    [input.paymentId, input.providerStatus.slice(0, 100), input.outcome, input.settled],
  );
}
