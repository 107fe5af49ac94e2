import { log } from '../log.js';

/**
 * Sends freshly queued messages right after their transaction commits, without making the response
 * wait: on Vercel the promise is handed to `waitUntil` (@vercel/functions), which keeps the function
 * alive until it settles; elsewhere (local server, tests) it simply runs in the background. Whatever
 * this misses (instance frozen, SMTP down) the cron (api/cron/deliver-messages.ts) sends later.
 */

const inFlight = new Set<Promise<unknown>>();

export function scheduleDelivery(messageIds: readonly string[]): void {
  if (messageIds.length === 0) return;
  const work = (async () => {
    const { deliverDueMessages } = await import('./deliver-messages.js');
    return await deliverDueMessages({ ids: messageIds, limit: messageIds.length });
  })().catch((error: unknown) => {
    log.error('immediate email delivery failed', { error });
  });
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work));
  void import('@vercel/functions')
    .then(({ waitUntil }) => waitUntil(work))
    .catch(() => undefined);
}

/** Tests and the dev server: waits until every delivery started so far has finished. */
export async function settleScheduledDeliveries(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
