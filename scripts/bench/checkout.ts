import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { db } from '../../lib/db/client.js';
import { upsertCustomerByEmail } from '../../lib/db/models/customers.js';
import { upsertEvent } from '../../lib/db/models/events.js';
import { type TicketType, upsertTicketType } from '../../lib/db/models/ticket-types.js';
import { startStripeSandbox } from '../../sandbox/stripe-sandbox.js';
import { startLocalServer } from '../local-server.js';
import { benchClient } from './http-client.js';
import { checkpoint, percentile, roundSlice, startBenchEnvironment } from './environment.js';
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js';
import { ensureNode22 } from '../lib/vercel-toolchain.js';

/**
 * `npm run bench -- checkout [--attempts 10000] [--tickets 5000] [--concurrency 50] [--pool 20] [--in-process]
 *   [--db-latency-ms N] [--rounds 5] [--warmup 4000] [--server-node 22|this]`
 *
 * A flash sale through the real stack: the local server (api/ as on Vercel) with the Stripe
 * sandbox behind the real SDK, on a fresh migrated database. `concurrency` buyers send `attempts`
 * one-ticket checkouts in total for `tickets` tickets. The local server and the Stripe sandbox
 * each run in their own process (like a function instance and a remote API; `--in-process` puts
 * everything in this one process instead). The server runs on Node 22, as Vercel runs the functions
 * (`--server-node this`: on the bench's own Node). Then, in the same run, the raw-SQL ceiling:
 * the same number of attempts at the same concurrency straight through `pg` (one transaction each:
 * the conditional UPDATE of one ticket row, and the INSERT of one order when it took a ticket).
 * A measurement, not a test: the numbers depend on the machine. `oversold` must be 0.
 *
 * `--rounds N` (default 5): the sale and the ceiling are cut into N rounds measured in turns (app round 1,
 * ceiling round 1, app round 2, ...). Each round is a whole flash sale of its own: its own ticket type with
 * tickets/N tickets for attempts/N attempts (and the ceiling likewise), so every round has the same mix of
 * sales and sold-out answers, and both sides see the machine in the same state (on a shared 2-core VM the
 * speed drifts between runs a minute apart). Rates are attempts / summed round time; `ratioByRound` shows
 * the spread. `byRound` also splits each app round at its last sale: ms until then, and ms after (the crowd
 * refused as sold out). `--rounds 1` is the old sequential measurement (one sale, then one ceiling).
 *
 * `--db-latency-ms N` puts a TCP proxy (latency-proxy.ts) that delays every packet by N ms between
 * PostgreSQL and both the app and the raw-SQL ceiling (Vercel → Neon): one round trip costs 2·N ms more.
 * The bench's own setup and consistency queries go straight to the database.
 */

export interface BenchCheckoutOptions {
  attempts?: number | string;
  tickets?: number | string;
  concurrency?: number | string;
  pool?: number | string;
  /** Run the local server and the Stripe sandbox inside this process. */
  'in-process'?: boolean | string;
  /** LEDGER_WRITES=off and the analytics triggers disabled: the baseline of the analytics bench's on/off ratio. */
  'ledger-off'?: boolean | string;
  /** Delay (ms) added to every packet between the database and the app / the raw-SQL ceiling (0: no proxy). */
  'db-latency-ms'?: number | string;
  /** Sale and ceiling measured in turns, in this many rounds (1: sequentially). */
  rounds?: number | string;
  /** Attempts on each side before the measured rounds, half of them sold out (not measured; default 4,000). */
  warmup?: number | string;
  /** The Node that runs the server: `22` (default: Vercel's runtime, see serverNode) or `this` (the bench's own). */
  'server-node'?: string;
}

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(HERE, '..', '..', '..');

/** Starts `node --import tsx <file>` (with `nodeBin`, default this Node) and resolves with the first JSON line it prints. */
async function startChild(
  file: string,
  args: string[],
  env: Record<string, string>,
  nodeBin = process.execPath,
): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  // BENCH_CHILD_NODE_ARGS: extra node flags for the children (e.g. `--cpu-prof` to profile the server).
  const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(nodeBin, [...nodeArgs, '--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = await new Promise<Record<string, string>>((resolvePromise, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`${file} exited early (${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const line = buffer.split('\n').find((l) => l.trim().startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolvePromise(JSON.parse(line) as Record<string, string>);
    });
  });
  child.removeAllListeners('exit');
  return { child, info };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolvePromise) => {
    child.once('exit', () => resolvePromise());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

/**
 * The Node binary the server child runs on. By default Node 22, the runtime Vercel gives the functions
 * (package.json `engines`; the npm-packaged binary build:vercel and the cold-start bench use, installed on demand
 * into a git-ignored cache): Web `Request`/`Response` and their body streams, which every answer goes through,
 * cost less there than on Node 20. `this` keeps the bench's own Node (the figures before this option).
 */
function serverNode(choice: string | undefined): string {
  if (choice === 'this') return process.execPath;
  if (choice !== undefined && choice !== '22') throw new Error(`--server-node is 22 or this, not ${choice}`);
  try {
    return ensureNode22({ log: (line) => process.stderr.write(`${line}\n`) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`no Node 22 for the server (${reason}); --server-node this runs it on this Node instead`);
  }
}

function nodeVersion(bin: string): string {
  if (bin === process.execPath) return process.version;
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

interface Latencies {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function summarize(durations: number[]): Latencies {
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  };
}

const int = (value: number | string | undefined, fallback: number) => {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${String(value)}`);
  return n;
};

/** Runs `total` tasks with `concurrency` workers; returns per-task durations in ms. */
async function runWorkers(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ durations: number[]; elapsedMs: number }> {
  const durations: number[] = new Array(total);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t0 = performance.now();
        await task(i);
        durations[i] = performance.now() - t0;
      }
    }),
  );
  return { durations, elapsedMs: performance.now() - started };
}

export async function benchCheckout(opts: BenchCheckoutOptions = {}) {
  const attempts = int(opts.attempts, 10_000);
  const tickets = int(opts.tickets, 5_000);
  const concurrency = int(opts.concurrency, 50);
  const poolMax = int(opts.pool, 20);
  const rounds = int(opts.rounds, 5);
  const warmup = int(opts.warmup, 4_000);
  if (rounds > tickets || rounds > attempts) throw new Error(`more rounds (${rounds}) than tickets or attempts`);
  /** Round r's share of `total` (the shares add up to total). */
  const share = (total: number, r: number) => roundSlice(total, rounds, r).count;

  const inProcess = opts['in-process'] === true || opts['in-process'] === 'true';
  const ledgerOff = opts['ledger-off'] === true || opts['ledger-off'] === 'true';
  const dbLatencyMs = Number(opts['db-latency-ms'] ?? 0);
  if (!Number.isFinite(dbLatencyMs) || dbLatencyMs < 0) throw new Error(`not a latency: ${String(opts['db-latency-ms'])}`);

  // Before anything starts: a bad choice fails here, with nothing to stop.
  const serverNodeBin = inProcess ? process.execPath : serverNode(opts['server-node']);

  let sandboxChild: ChildProcess | undefined;
  let serverChild: ChildProcess | undefined;
  let stripeUrl: string;
  let closeInProcess: (() => Promise<void>) | undefined;
  if (inProcess) {
    const stripe = await startStripeSandbox({ port: 0 });
    stripeUrl = stripe.url;
    closeInProcess = () => stripe.close();
  } else {
    const started = await startChild(resolve(ROOT, 'sandbox/cli.ts'), [], { SANDBOX_STRIPE_PORT: '0', SANDBOX_PAYPAL_PORT: '0' });
    sandboxChild = started.child;
    stripeUrl = String(started.info.stripe);
  }
  const appEnv = {
    DATABASE_POOL_MAX: String(poolMax),
    DATABASE_CONNECT_TIMEOUT_MS: '60000',
    // No idle connection closes between rounds (see `raw`).
    DATABASE_IDLE_TIMEOUT_MS: '600000',
    STRIPE_SECRET_KEY: 'sk_test_bench_checkout',
    STRIPE_API_BASE: stripeUrl,
    PROVIDER_TIMEOUT_MS: '10000',
    LEDGER_WRITES: ledgerOff ? 'off' : 'on',
  };
  const env = await startBenchEnvironment(appEnv);
  // The app and the ceiling reach the database through the proxy; this process's own queries go direct.
  let proxy: LatencyProxy | undefined;
  let appDatabaseUrl = env.databaseUrl;
  if (dbLatencyMs > 0) {
    proxy = await startLatencyProxy({ targetUrl: env.databaseUrl, delayMs: dbLatencyMs });
    appDatabaseUrl = proxy.url(env.databaseUrl);
  }
  if (ledgerOff) {
    await db.query('ALTER TABLE orders DISABLE TRIGGER orders_analytics_insert, DISABLE TRIGGER orders_analytics_status');
    await db.query('ALTER TABLE payment_failures DISABLE TRIGGER payment_failures_analytics');
  }
  let serverUrl: string;
  let closeServer: () => Promise<void>;
  if (inProcess) {
    if (proxy) throw new Error('--db-latency-ms needs the separate server process (not --in-process)');
    const server = await startLocalServer({ port: 0, trustForwardedFor: true });
    serverUrl = server.url;
    closeServer = () => server.close();
  } else {
    const started = await startChild(
      HERE,
      ['--serve'],
      {
        ...appEnv,
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        RATE_LIMIT_ENABLED: 'false',
        DATABASE_URL: appDatabaseUrl,
        ALLOWED_ORIGINS: process.env.ALLOWED_ORIGINS ?? 'http://localhost:3000',
      },
      serverNodeBin,
    );
    serverChild = started.child;
    serverUrl = String(started.info.url);
    closeServer = () => stopChild(serverChild);
  }
  // Neither side's pool closes a connection as idle during the bench: between one side's rounds the other
  // side runs, for up to ~10 s with --db-latency-ms (the app gets DATABASE_IDLE_TIMEOUT_MS 600000 in appEnv).
  const raw = new pg.Pool({ connectionString: appDatabaseUrl, max: poolMax, idleTimeoutMillis: 0 });
  const client = benchClient(concurrency);
  try {
    const event = await upsertEvent(db, {
      slug: 'bench-flash-sale',
      name: 'Bench flash sale',
      startsAt: new Date(Date.now() + 30 * 86_400_000),
      endsAt: new Date(Date.now() + 32 * 86_400_000),
    });
    /** A ticket type of this bench's event: 45.00 USD, sliding scale allowed (the ceiling never uses it). */
    const benchType = (code: string, name: string, capacity: number) =>
      upsertTicketType(db, { eventId: event.id, code, name, priceCents: 4_500, currency: 'USD', capacity, slidingScale: true });
    // One hot ticket type per round on each side (see --rounds).
    const appTypes: TicketType[] = [];
    const rawTypes: TicketType[] = [];
    for (let r = 0; r < rounds; r++) {
      const suffix = rounds === 1 ? '' : `_${r + 1}`;
      appTypes.push(await benchType(`flash${suffix}`, `Flash Sale Pass${suffix}`, share(tickets, r)));
      rawTypes.push(await benchType(`raw_ceiling${suffix}`, `Raw SQL ceiling${suffix}`, share(tickets, r)));
    }
    const appTypeIds = appTypes.map((t) => t.id);

    const statuses: Record<string, number> = {};
    const byStatus: Record<string, number[]> = {};
    const url = `${serverUrl}/api/payments/checkout-session`;
    const customer = await upsertCustomerByEmail(db, {
      email: 'raw-ceiling@bench.example',
      firstName: 'Raw',
      lastName: 'Ceiling',
    });
    const tokenHash = randomBytes(32).toString('hex');
    let rawTaken = 0;
    /** When the latest recorded sale (201) was answered: splits each round into its sale and its sold-out part. */
    let lastSaleAt = 0;

    /** `n` one-ticket checkouts through the app for one ticket type (buyers `${prefix}${from}` to `${prefix}${from + n - 1}`). */
    const sale = (type: TicketType, from: number, n: number, prefix: string, record: boolean) =>
      runWorkers(n, concurrency, async (k) => {
        const i = from + k;
        const t0 = performance.now();
        const response = await client.post(
          url,
          {
            'content-type': 'application/json',
            'x-forwarded-for': `${record ? 10 : 11}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          },
          JSON.stringify({
            event: event.slug,
            items: [{ ticketType: type.code, quantity: 1 }],
            customer: { email: `${prefix}${i}@bench.example`, firstName: 'Bench', lastName: `Buyer ${i}` },
            slidingScalePercent: i % 4 === 0 ? 25 : 0,
            provider: 'stripe',
          }),
        );
        if (!record) return;
        const key = String(response.status);
        if (response.status === 201) lastSaleAt = performance.now();
        statuses[key] = (statuses[key] ?? 0) + 1;
        const list = byStatus[key] ?? [];
        list.push(performance.now() - t0);
        byStatus[key] = list;
      });

    /** `n` raw-SQL attempts on one ticket row: the conditional UPDATE, and the INSERT of one order when it took one. */
    const rawSale = (type: TicketType, n: number, record: boolean) =>
      runWorkers(n, concurrency, async () => {
        const client = await raw.connect();
        try {
          await client.query('BEGIN');
          const held = await client.query(
            'UPDATE ticket_types SET taken = taken + 1 WHERE id = $1 AND taken + 1 <= capacity RETURNING id',
            [type.id],
          );
          if (held.rowCount === 1) {
            await client.query(
              `INSERT INTO orders (event_id, customer_id, currency, subtotal_cents, discount_cents, total_cents, provider,
                 access_token_hash, hold_expires_at)
               VALUES ($1, $2, 'USD', 4500, 0, 4500, 'stripe', $3, now() + interval '31 minutes')`,
              [event.id, customer.id, tokenHash],
            );
            if (record) rawTaken += 1;
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      });

    // Warm-up (not measured), both sides at the bench's concurrency: the route modules load, every pooled
    // connection opens and prepares its statements, and V8 optimises the sale's and the sold-out answer's code.
    // The server's JIT needs thousands of requests, not hundreds: with 500 warm-up attempts, round 1 of 5 ran
    // at 0.55-0.58 of its ceiling against 0.62-0.77 for the others, and a CPU profile of that round showed the
    // same functions as later rounds taking 2-9x the time (local-server, zod, attemptCheckoutSession); with
    // 4,000 round 1 is like the rest. A cold instance is measured by `npm run bench -- cold-start` instead.
    const warmAttempts = Math.min(attempts, warmup);
    const warmCapacity = Math.ceil(warmAttempts / 2);
    // The ceiling first, the app last: round 1 (the app's) follows the app's warm-up at once. Before, with
    // --db-latency-ms 2 the ceiling's 2,000 warm-up attempts took ~13 s, the app's pooled connections closed as
    // idle (DATABASE_IDLE_TIMEOUT_MS, 10 s), and round 1 opened them again through the proxy: its sale took
    // 1.6 s against 0.7-0.9 s for the others, and the sale's p99 was 0.85-1.0 s. (No pool closes idle
    // connections now either: see `raw`.)
    await rawSale(await benchType('raw_warmup', 'Raw warm-up', warmCapacity), warmAttempts, false);
    await sale(await benchType('warmup', 'Warm-up', warmCapacity), 0, warmAttempts, 'warmup', false);

    // In turns (see --rounds). Each timed round starts with no dirty buffers: the checkpoint the previous
    // writes owe does not land in the middle of the next round.
    const appRuns: { durations: number[]; elapsedMs: number }[] = [];
    /** Per round: ms until the last ticket was sold, and ms after it (the answers refused as sold out). */
    const salePhases: { untilSoldOutMs: number; afterMs: number }[] = [];
    const rawRuns: { durations: number[]; elapsedMs: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      await checkpoint();
      const roundStart = performance.now();
      lastSaleAt = roundStart;
      appRuns.push(
        await sale(appTypes[r] as TicketType, roundSlice(attempts, rounds, r).from, share(attempts, r), 'buyer', true),
      );
      salePhases.push({
        untilSoldOutMs: lastSaleAt - roundStart,
        afterMs: roundStart + (appRuns[r]?.elapsedMs ?? 0) - lastSaleAt,
      });
      await checkpoint();
      rawRuns.push(await rawSale(rawTypes[r] as TicketType, share(attempts, r), true));
    }
    const app = {
      durations: appRuns.flatMap((run) => run.durations),
      elapsedMs: appRuns.reduce((t, run) => t + run.elapsedMs, 0),
    };
    const rawRun = {
      durations: rawRuns.flatMap((run) => run.durations),
      elapsedMs: rawRuns.reduce((t, run) => t + run.elapsedMs, 0),
    };
    // Per round: attempts/s through the app and through the raw SQL, and their ratio.
    const byRound = appRuns.map((run, r) => {
      const n = share(attempts, r);
      const rawMs = rawRuns[r]?.elapsedMs ?? 0;
      return {
        appPerSecond: Math.round(n / (run.elapsedMs / 1000)),
        ceilingPerSecond: Math.round(n / (rawMs / 1000)),
        ratio: Math.round((rawMs / run.elapsedMs) * 1000) / 1000,
        appMsUntilSoldOut: Math.round(salePhases[r]?.untilSoldOutMs ?? 0),
        appMsAfterSoldOut: Math.round(salePhases[r]?.afterMs ?? 0),
      };
    });

    const counters = await db.queryMany<{ capacity: number; taken: number }>(
      'SELECT capacity, taken FROM ticket_types WHERE id = ANY($1::uuid[])',
      [appTypeIds],
    );
    const itemCount = await db.queryOne<{ n: number }>(
      `SELECT count(*)::int AS n FROM order_items i JOIN orders o ON o.id = i.order_id
       WHERE i.ticket_type_id = ANY($1::uuid[]) AND o.status IN ('pending', 'processing', 'completed')`,
      [appTypeIds],
    );
    const taken = counters.reduce((t, c) => t + c.taken, 0);
    const oversold = counters.reduce((t, c) => t + Math.max(0, c.taken - c.capacity), 0);
    const sessions = await db.queryOne<{ n: number }>(
      `SELECT count(*)::int AS n FROM payments p
       WHERE p.provider_session_id IS NOT NULL
         AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = p.order_id AND i.ticket_type_id = ANY($1::uuid[]))`,
      [appTypeIds],
    );

    const rawCounters = await db.queryMany<{ capacity: number; taken: number }>(
      'SELECT capacity, taken FROM ticket_types WHERE id = ANY($1::uuid[])',
      [rawTypes.map((t) => t.id)],
    );

    const appRate = attempts / (app.elapsedMs / 1000);
    const rawRate = attempts / (rawRun.elapsedMs / 1000);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      config: {
        attempts,
        tickets,
        concurrency,
        dbPoolMax: poolMax,
        provider: 'stripe (local sandbox, real SDK)',
        processes: inProcess ? 'one' : 'load generator | local server | sandbox',
        dbLatencyMs,
        rounds,
        warmup: warmAttempts,
        serverNode: nodeVersion(serverNodeBin),
      },
      attemptsPerSecond: round(appRate),
      latencyMs: summarize(app.durations),
      latencyMsByStatus: Object.fromEntries(Object.entries(byStatus).map(([k, v]) => [k, summarize(v)])),
      durationMs: Math.round(app.elapsedMs),
      statuses,
      sold: taken,
      checkoutsCreated: statuses['201'] ?? 0,
      soldOut: statuses['409'] ?? 0,
      oversold,
      consistency: {
        ticketsInLiveOrders: itemCount?.n ?? 0,
        stripeSessions: sessions?.n ?? 0,
        countersMatchOrders: (itemCount?.n ?? 0) === taken,
      },
      rawSqlCeiling: {
        attemptsPerSecond: round(rawRate),
        latencyMs: summarize(rawRun.durations),
        durationMs: Math.round(rawRun.elapsedMs),
        sold: rawTaken,
        oversold: rawCounters.reduce((t, c) => t + Math.max(0, c.taken - c.capacity), 0),
      },
      ratioOfRawCeiling: Math.round((appRate / rawRate) * 1000) / 1000,
      ratioByRound: byRound.map((r) => r.ratio),
      byRound,
      p99RatioToRawCeiling:
        Math.round((summarize(app.durations).p99 / Math.max(0.01, summarize(rawRun.durations).p99)) * 100) / 100,
    };
  } finally {
    client.close();
    await raw.end();
    await closeServer();
    await proxy?.close();
    await closeInProcess?.();
    await stopChild(sandboxChild);
    await env.close();
  }
}

/** Child mode: serve the app (env from the parent) and print where. */
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv.includes('--serve')) {
  const server = await startLocalServer({ port: 0, trustForwardedFor: true });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
