import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client.js';
import { configureStripe } from '../support/providers.js';
import { deliverStripe, inboxRow, stripeEvent } from './support.js';

/** Issue 18: a signed Stripe event with \u0000 (or a lone surrogate) is stored losslessly and acknowledged. */

beforeAll(() => {
  configureStripe();
});

describe('a signed Stripe event PostgreSQL jsonb cannot hold', () => {
  it.each([
    ['NUL', 'Ana\u0000Diaz'],
    ['lone surrogate', 'Ana\ud800Diaz'],
  ])(
    'with a %s is acknowledged (200), stored once, exact text kept beside the jsonb; a retry is a duplicate',
    async (_kind, name) => {
      const event = stripeEvent('customer.created', {
        id: `cus_${Date.now()}`,
        object: 'customer',
        name,
        metadata: { [`k${name}`]: name },
      });
      const first = await deliverStripe(event);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body).toMatchObject({ received: true, duplicate: false });
      expect(await inboxRow(String(event.id))).toMatchObject({ status: 'ignored' });

      const row = await db.queryOne<{ raw: string | null; name: string }>(
        `SELECT payload_raw AS raw, payload->'data'->'object'->>'name' AS name FROM webhook_events WHERE provider_event_id = $1`,
        [String(event.id)],
      );
      expect(row?.name).toBe('Ana\ufffdDiaz');
      // Lossless: the kept text parses back to exactly what Stripe signed.
      expect(JSON.parse(row?.raw ?? 'null')).toEqual(event);

      const again = await deliverStripe(event);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ duplicate: true });
    },
  );

  it('an ordinary event keeps no raw copy', async () => {
    const event = stripeEvent('customer.created', { id: `cus_${Date.now()}`, object: 'customer', name: 'Zoë 😀' });
    expect((await deliverStripe(event)).status).toBe(200);
    const row = await db.queryOne<{ raw: string | null }>(
      'SELECT payload_raw AS raw FROM webhook_events WHERE provider_event_id = $1',
      [String(event.id)],
    );
    expect(row?.raw).toBeNull();
  });
});
