import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool } from '../../lib/db/client.js';
import { countInbox, createPendingOrder, deliverStripe, orderState, stripeEvent, paidSessionFor } from './support.js';
import { configureStripe } from '../support/providers.js';

/**
 * The database goes away while the app is running: the delivery gets a 5xx (Stripe retries), nothing
 * is acknowledged, and Stripe's later retry of the same event is applied exactly once. The app's
 * connections go through a local TCP relay that the test cuts and restores.
 */

class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async start(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and drops the open ones, like a database that went down. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const realUrl = process.env.DATABASE_URL ?? '';
let relay: Relay;

beforeAll(async () => {
  configureStripe();
  const url = new URL(realUrl);
  relay = new Relay({ host: url.hostname, port: Number(url.port || 5432) });
  await relay.start();
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  process.env.DATABASE_URL = url.toString();
  process.env.DATABASE_CONNECT_TIMEOUT_MS = '1000';
  resetConfigForTests();
  await closePool();
});

afterAll(async () => {
  await closePool();
  process.env.DATABASE_URL = realUrl;
  delete process.env.DATABASE_CONNECT_TIMEOUT_MS;
  resetConfigForTests();
  await relay.cut().catch(() => undefined);
});

describe('database unreachable during delivery', () => {
  it('answers 5xx, stores nothing; the provider retry later is applied once', async () => {
    const p = await createPendingOrder({ quantity: 2 });
    const event = stripeEvent('checkout.session.completed', paidSessionFor(p));
    const payload = JSON.stringify(event);

    await relay.cut();
    const refused = await deliverStripe(payload);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect(JSON.stringify(refused.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);

    await relay.start(relay.port);
    expect(await countInbox(String(event.id))).toBe(0);
    expect((await orderState(p.order.id, p.ticketType.id)).order.status).toBe('pending');

    // Stripe retries the same event (same id, fresh signature).
    const retried = await deliverStripe(payload);
    expect(retried.status).toBe(200);
    // Applied (in one statement) and processed; Stripe's fee is read after the response.
    expect(retried.body).toMatchObject({ duplicate: false, status: 'processed' });
    const again = await deliverStripe(payload);
    expect(again.body).toMatchObject({ duplicate: true });

    const s = await orderState(p.order.id, p.ticketType.id);
    expect(s.order.status).toBe('completed');
    expect(s.counters).toMatchObject({ sold: 2, held: 0 });
    expect(s.audit.map((a) => a.action)).toEqual(['payment_completed']);
    expect(await countInbox(String(event.id))).toBe(1);
  });
});
