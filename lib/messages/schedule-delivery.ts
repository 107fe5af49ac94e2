import { getConfig } from '../config.js';
import { log } from '../log.js';
import { handToWaitUntil } from '../ops/wait-until.js';

/**
 * Sends freshly queued messages right after their transaction commits, without making the response
 * wait: on Vercel the promise is handed to `waitUntil` (@vercel/functions), which keeps the function
 * alive until it settles; elsewhere (local server, tests) it simply runs in the background. Whatever
 * this misses (instance frozen, SMTP down) the cron (api/cron/deliver-messages.ts) sends later.
 */

const inFlight = new Set<Promise<unknown>>();

/** Runs `fn` after the response (waitUntil on Vercel); its failure is logged, never thrown. */
export function runInBackground(what: string, fn: () => Promise<unknown>): void {
  const work = fn().catch((error: unknown) => {
    log.error(`${what} failed`, { error });
  });
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work));
  handToWaitUntil(work);
}

/** Without SMTP_URL nothing is tried now: the messages wait, queued, for the cron (which records why it cannot send). */
export function scheduleDelivery(messageIds: readonly string[]): void {
  if (messageIds.length === 0 || !getConfig().mail.smtpUrl) return;
  runInBackground('immediate email delivery', async () => {
    const { deliverDueMessages } = await import('./deliver-messages.js');
    return await deliverDueMessages({ ids: messageIds, limit: messageIds.length });
  });
}

/** Tests and the dev server: waits until every delivery started so far has finished. */
export async function settleScheduledDeliveries(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
