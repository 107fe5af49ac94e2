import jsQRModule from 'jsqr';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { PNG } from 'pngjs';
import { resetConfigForTests } from '../../lib/config.js';
import { db } from '../../lib/db/client.js';
import type { OutboxMessage } from '../../lib/db/models/outbox-messages.js';
import { listMessagesForOrder } from '../../lib/db/models/outbox-messages.js';
import { settleScheduledDeliveries } from '../../lib/messages/schedule-delivery.js';
import { type CaughtMail, type MailCatcher, startMailCatcher } from '../../scripts/mail-catcher.js';

/**
 * Email test support: a real SMTP server (smtp-server, via scripts/mail-catcher.ts) started by the test,
 * every message parsed with mailparser; the app's SMTP_URL pointed at it; QR images decoded with jsqr.
 */

export const MAIL_FROM = 'Boulder Fest Tests <tickets@example.test>';

/** Starts a catcher (on `port`, or a free one) and points SMTP_URL / MAIL_FROM at it. */
export async function useMailCatcher(port?: number): Promise<MailCatcher> {
  const catcher = await startMailCatcher({ port: port ?? 0, keep: Number.POSITIVE_INFINITY });
  process.env.SMTP_URL = catcher.url;
  process.env.MAIL_FROM = MAIL_FROM;
  process.env.PUBLIC_SITE_URL ??= 'http://localhost:3000';
  resetConfigForTests();
  return catcher;
}

/**
 * For test files that run the delivery cron (or make messages due for it): one such file at a time. The
 * cron sends every due message of the shared test database, through the SMTP server of the file that runs
 * it, so a message one file made due could otherwise be sent by another file's cron to that file's catcher.
 * An advisory lock held for the whole file, on a connection of its own (the run's database).
 */
export function useExclusiveDeliveryCron(): void {
  let holder: pg.Client | undefined;
  beforeAll(async () => {
    holder = new pg.Client({ connectionString: inject('databaseUrl') });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(hashtextextended('tests:delivery-cron', 0))`);
  }, 120_000);
  afterAll(async () => {
    await holder?.end();
  });
}

/** Mail sent to `address` (the envelope recipient), in arrival order. */
export function mailTo(catcher: MailCatcher, address: string): CaughtMail[] {
  return catcher.messages.filter((mail) => mail.envelope.to.some((to) => to.toLowerCase() === address.toLowerCase()));
}

// jsqr is CommonJS with `export default` typings: under NodeNext the default import is the module object.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number,
) => { data: string } | null;

/** The text a QR code PNG carries. */
export function decodeQr(png: Buffer): string {
  const image = PNG.sync.read(png);
  const decoded = jsQR(
    new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length),
    image.width,
    image.height,
  );
  if (!decoded) throw new Error('no QR code found in the image');
  return decoded.data;
}

/** Waits for every after-commit / background delivery started so far. */
export async function settleMail(): Promise<void> {
  await settleScheduledDeliveries();
}

export async function outboxFor(orderId: string): Promise<OutboxMessage[]> {
  return await listMessagesForOrder(db, orderId);
}

/**
 * Moves every pending message of the order to "due" (as if its backoff had passed), ahead of anything
 * else due in the shared test database (the cron takes the longest-due first).
 */
export async function makeDueNow(orderId: string): Promise<void> {
  await db.query(
    `UPDATE outbox_messages SET next_attempt_at = now() - interval '1 day' WHERE order_id = $1 AND status = 'pending'`,
    [orderId],
  );
}
