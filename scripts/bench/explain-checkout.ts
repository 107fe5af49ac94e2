import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { Queryable } from '../../lib/db/client.js';
import { db } from '../../lib/db/client.js';
import { upsertEvent } from '../../lib/db/models/events.js';
import { upsertTicketType } from '../../lib/db/models/ticket-types.js';
import { placeCheckoutOrder, readCheckout, recordCheckoutSession } from '../../lib/db/queries/checkout.js';
import { startBenchEnvironment } from './environment.js';

/**
 * `npx tsx scripts/bench/explain-checkout.ts [out-file]`: the plans of checkout's statements (issue 17) on a
 * fresh migrated database with 5,000 orders already holding tickets: the first read, the one write
 * (checkout_place_order, its nested statements through auto_explain) and the after-provider write, run
 * through the same lib/db/queries/checkout.ts functions the app uses. Prints the text (and writes it to
 * out-file). The hot ticket_types row is locked from the nested `UPDATE ticket_types` (the function's last
 * statement) to the commit that ends the same statement: its time is in the plan.
 */

const env = await startBenchEnvironment();
const client = new pg.Client({ connectionString: env.databaseUrl });
await client.connect();
const log: string[] = [];
client.on('notice', (notice) => log.push(String(notice.message)));
const q: Queryable = {
  query: (async (text: string, params?: readonly unknown[]) =>
    await client.query(text, params as unknown[])) as Queryable['query'],
  async queryOne(text, params) {
    return (await client.query(text, params as unknown[])).rows[0];
  },
  async queryMany(text, params) {
    return (await client.query(text, params as unknown[])).rows;
  },
};
try {
  const event = await upsertEvent(db, {
    slug: 'explain-flash',
    name: 'Explain flash sale',
    startsAt: new Date(Date.now() + 30 * 86_400_000),
    endsAt: new Date(Date.now() + 32 * 86_400_000),
    status: 'on_sale',
  });
  await upsertTicketType(db, {
    eventId: event.id,
    code: 'flash',
    name: 'Flash',
    priceCents: 4500,
    currency: 'USD',
    capacity: 100_000,
  });
  const place = async (i: number, readFirst: boolean) => {
    const read = await readCheckout(q, {
      eventSlug: event.slug,
      codes: ['flash'],
      hits: readFirst ? [{ bucket: `checkout:ip:10.0.0.${i % 250}`, windowSeconds: 60 }] : [],
      idempotencyKey: { scope: 'explain', keyHash: `k${i}` },
      now: new Date(),
    });
    const type = read.types[0];
    if (!read.event || !type) throw new Error('catalogue missing');
    const outcome = await placeCheckoutOrder(q, {
      eventId: read.event.id,
      eventVersion: read.event.catalogVersion,
      lines: [{ ticketTypeId: type.id, quantity: 1, catalogVersion: type.catalogVersion }],
      order: {
        currency: 'USD',
        subtotalCents: 4500,
        discountCents: 0,
        totalCents: 4500,
        slidingScalePercent: 0,
        provider: 'stripe',
        accessTokenHash: 'a'.repeat(64),
        holdExpiresAt: new Date(Date.now() + 16 * 60_000),
        metadata: {},
        idempotencyKeyHash: `k${i}`,
      },
      buyer: {
        email: `buyer${i}@explain.example`,
        firstName: 'Ex',
        lastName: 'Plain',
        phone: null,
        clientKey: `10.0.${(i >> 8) & 255}.${i & 255}`,
        emailKey: `buyer${i}@explain.example`,
        capPerClient: 10,
        capPerEmail: 10,
      },
      items: [
        {
          ticketTypeId: type.id,
          unitPriceCents: 4500,
          discountCents: 0,
          priceCents: 4500,
          currency: 'USD',
          attendeeFirstName: null,
          attendeeLastName: null,
          attendeeEmail: null,
        },
      ],
      audit: { actorType: 'buyer', actorId: null, ip: null, userAgent: null, requestId: null, newValues: {} },
      claim: { scope: 'explain', key: `k${i}`, requestHash: 'b'.repeat(64), staleAfterSeconds: 360 },
    });
    if (outcome.outcome !== 'created') throw new Error(`not created: ${outcome.outcome}`);
    await recordCheckoutSession(
      q,
      outcome.paymentId,
      { sessionId: `cs_test_${i}`, checkoutUrl: 'https://checkout.example/x' },
      { claim: { scope: 'explain', key: `k${i}`, requestHash: 'b'.repeat(64) }, status: 201, body: { ok: true } },
    );
  };
  // Data first (5,000 live holds), then ANALYZE, then the explained checkout.
  for (let i = 0; i < 5_000; i++) await place(i, true);
  await client.query('ANALYZE');
  await client.query(`LOAD 'auto_explain'`);
  for (const setting of [
    'SET auto_explain.log_min_duration = 0',
    'SET auto_explain.log_analyze = on',
    'SET auto_explain.log_buffers = on',
    'SET auto_explain.log_timing = on',
    'SET auto_explain.log_nested_statements = on',
    'SET client_min_messages = log',
  ]) {
    await client.query(setting);
  }
  log.length = 0;
  await place(5_000, true);
  const text = log.join('\n\n');
  const out = process.argv[2];
  if (out) writeFileSync(resolve(out), `${text}\n`);
  process.stdout.write(`${text}\n`);
} finally {
  await client.end();
  await env.close();
}
