import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tickets from '../../api/tickets.js';
import { getConfig, resetConfigForTests } from '../../lib/config.js';
import { closePool, db } from '../../lib/db/client.js';
import { checkHealth } from '../../lib/db/queries/health.js';
import { createEventWithTicketTypes } from '../support/factories.js';
import { call } from '../support/http.js';

/**
 * Issue 18, "Crash windows", the database part. The app's connections go through a local TCP relay the
 * test can freeze, the way a SIGSTOPped PostgreSQL behaves: connections stay open, nothing answers.
 * - the whole database frozen: an in-flight request gets 503 DATABASE_UNAVAILABLE at the client-side
 *   query deadline (derived from the function limit), not after ~20 s or never;
 * - only the main postgres process frozen (open connections keep working, new ones hang): health is
 *   unhealthy, not "healthy".
 */

type Mode = 'open' | 'frozen' | 'no-new-connections';

class FreezableRelay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  mode: Mode = 'open';
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('error', () => undefined);
      client.on('close', () => this.sockets.delete(client));
      // A frozen postmaster accepts (the kernel does) but never forks a backend: nothing is forwarded.
      if (this.mode !== 'open') return;
      const upstream = net.connect(this.target.port, this.target.host);
      this.sockets.add(upstream);
      upstream.on('error', () => undefined);
      upstream.on('close', () => this.sockets.delete(upstream));
      const relay = (from: net.Socket, to: net.Socket) => {
        const held: Buffer[] = [];
        from.on('data', (chunk: Buffer) => {
          if (this.mode === 'frozen') held.push(chunk);
          else {
            for (const earlier of held.splice(0)) to.write(earlier);
            to.write(chunk);
          }
        });
        from.on('end', () => to.end());
      };
      relay(client, upstream);
      relay(upstream, client);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const realUrl = process.env.DATABASE_URL ?? '';
let relay: FreezableRelay;
let eventSlug: string;

beforeAll(async () => {
  const { event } = await createEventWithTicketTypes({ pass: { capacity: 5 } });
  eventSlug = event.slug;
  const url = new URL(realUrl);
  relay = new FreezableRelay({ host: url.hostname, port: Number(url.port || 5432) });
  await relay.start();
  url.hostname = '127.0.0.1';
  url.port = String(relay.port);
  await closePool();
  process.env.DATABASE_URL = url.toString();
  // A 3 s function limit: every database deadline below is derived from it (query 1.5 s, connect 0.9 s).
  process.env.FUNCTION_MAX_DURATION_S = '3';
  resetConfigForTests();
});

afterAll(async () => {
  relay.mode = 'open';
  await closePool();
  await relay.close();
  process.env.DATABASE_URL = realUrl;
  delete process.env.FUNCTION_MAX_DURATION_S;
  resetConfigForTests();
});

const catalog = () => call(tickets.GET, { path: '/api/tickets', query: { event: eventSlug } });

describe('database deadlines below the function limit', () => {
  it('derives connect, query and statement deadlines below the limit', () => {
    const { database, timeBudget } = getConfig();
    expect(timeBudget.functionLimitMs).toBe(3_000);
    for (const ms of [database.connectTimeoutMs, database.queryTimeoutMs, database.statementTimeoutMs]) {
      expect(ms).toBeLessThan(timeBudget.functionLimitMs);
    }
    // The server cancels first when it can; the client-side deadline covers a server that cannot.
    expect(database.statementTimeoutMs).toBeLessThan(database.queryTimeoutMs);
  });

  it('the whole database frozen: an in-flight request answers 503 at the query deadline, and recovers after', async () => {
    expect((await catalog()).status).toBe(200); // the pool has a live connection
    relay.mode = 'frozen';
    const started = performance.now();
    const frozen = await catalog();
    const ms = performance.now() - started;
    expect(frozen.status).toBe(503);
    expect(frozen.body.error.code).toBe('DATABASE_UNAVAILABLE');
    expect(ms).toBeLessThan(getConfig().timeBudget.functionLimitMs);

    // A new connection while frozen: refused at the connect deadline, 503 again.
    expect((await catalog()).status).toBe(503);

    relay.mode = 'open';
    expect((await catalog()).status).toBe(200);
  });

  it('only the main postgres process frozen (open connections answer, new ones hang): health is unhealthy', async () => {
    expect((await checkHealth()).status).toBe('healthy');
    relay.mode = 'no-new-connections';
    // The pool's open connection still answers: a check that only used it would say healthy.
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const report = await checkHealth();
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database.status).toBe('down');
    expect(['CONNECTION_ERROR', 'TIMEOUT']).toContain(report.checks.database.error);

    relay.mode = 'open';
    expect((await checkHealth()).status).toBe('healthy');
  });
});
