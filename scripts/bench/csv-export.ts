import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../lib/auth/api-keys.js';
import { db, transaction } from '../../lib/db/client.js';
import { startBenchEnvironment } from './environment.js';

/**
 * `npm run bench -- csv-export [--rows 10000] [--small 1000] [--xl 50000]` (`--xl 0` skips the 50,000-row run)
 *
 * Peak memory of the finance CSV export (GET /api/payments/transactions?format=csv). A fresh
 * migrated database gets `rows` + `small` completed payments (bulk SQL seed: the export only reads,
 * and 11,000 real checkouts would measure the sandbox, not the export). Each scenario runs in a
 * fresh child process that serves api/ through the local server (the "function"); this process
 * downloads the export over HTTP, reading it as a stream. The child samples its RSS every 5 ms.
 *
 * Scenarios: the export of `small`, `rows` and `xl` rows, and — for contrast — a deliberately
 * buffered export of `rows` rows (all rows fetched and the whole CSV built in memory, what a
 * non-streaming implementation does). Constant memory = the streamed exports' peak growth over
 * the warmed-up baseline does not grow with the row count. A measurement, not a test.
 */

const SELF = fileURLToPath(import.meta.url);
/** Extra V8 flags for the serving process (`--node-flags "--max-semi-space-size=1"`), empty by default. */
let NODE_FLAGS: string[] = [];

interface ChildReport {
  baselineRssBytes: number;
  peakRssBytes: number;
  maxRssBytes: number;
  heapUsedPeakBytes: number;
  /** With --force-gc: the largest heap still in use right after a full GC (what the export keeps alive). */
  liveHeapMaxBytes: number | null;
  liveHeapBaselineBytes: number | null;
}

interface ScenarioResult {
  scenario: string;
  rows: number;
  bytes: number;
  durationMs: number;
  rowsPerSecond: number;
  baselineRssMb: number;
  peakRssMb: number;
  peakGrowthMb: number;
  processMaxRssMb: number;
  heapUsedPeakMb: number;
  /** Separate run with a full GC every 100 ms: live heap after GC, max and its growth over the baseline. */
  liveHeapMaxMb?: number | null;
  liveHeapGrowthMb?: number | null;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function seedTransactions(rows: number, small: number, xl = 0): Promise<void> {
  const event = await db.queryOne<{ id: string }>(
    `INSERT INTO events (slug, name, starts_at, ends_at)
     VALUES ('bench-csv-' || substr(md5(random()::text), 1, 8), 'Bench CSV', now() + interval '30 days', now() + interval '32 days')
     RETURNING id`,
  );
  if (!event) throw new Error('no event');
  const CHUNK = 5_000;
  for (const [code, count] of [
    ['big', rows],
    ['small', small],
    ['xl', xl],
  ] as const) {
    if (count <= 0) continue;
    const type = await db.queryOne<{ id: string }>(
      `INSERT INTO ticket_types (event_id, code, name, price_cents, currency, capacity, taken)
       VALUES ($1, $2, 'Bench pass ' || $2, 6500, 'USD', $3, $3) RETURNING id`,
      [event.id, code, count],
    );
    if (!type) throw new Error('no ticket type');
    // One statement per chunk (each well inside the statement timeout), all in one transaction.
    await transaction(async (tx) => {
      for (let from = 1; from <= count; from += CHUNK) {
        const to = Math.min(count, from + CHUNK - 1);
        await tx.query(
          `WITH cust AS (
             INSERT INTO customers (email, first_name, last_name)
             SELECT 'bench.' || $2 || '.' || g || '@example.test', 'Dancer' || g,
               CASE WHEN g % 50 = 0 THEN '=SUM(A1:A2)' ELSE 'Rueda, "Casino"' END
             FROM generate_series($4::int, $5::int) g RETURNING id, email),
           numbered AS (SELECT id, split_part(split_part(email, '@', 1), '.', 3)::int AS g FROM cust),
           ord AS (
             INSERT INTO orders (event_id, customer_id, status, currency, subtotal_cents, total_cents, provider,
               access_token_hash, completed_at, created_at, metadata)
             SELECT $1, n.id, 'completed', 'USD', 6500, 6500, 'stripe', encode(sha256(('bench' || $2 || n.g)::bytea), 'hex'),
               now() - make_interval(secs => n.g), now() - make_interval(secs => n.g), jsonb_build_object('g', n.g)
             FROM numbered n RETURNING id, created_at, (metadata->>'g')::int AS g),
           items AS (
             INSERT INTO order_items (order_id, ticket_type_id, unit_price_cents, price_cents, currency, status)
             SELECT o.id, $3, 6500, 6500, 'USD', 'active' FROM ord o RETURNING order_id)
           INSERT INTO payments (order_id, provider, status, amount_cents, currency, provider_session_id,
             provider_payment_id, method_type, method_brand, method_last4, completed_at, created_at)
           SELECT o.id, 'stripe', 'completed', 6500, 'USD', 'cs_bench_' || $2 || o.g, 'pi_bench_' || $2 || o.g, 'card',
             'visa', '4242', o.created_at, o.created_at
           FROM ord o`,
          [event.id, code, type.id, from, to],
        );
      }
    });
  }
  // Fresh tables have no planner statistics (production ones do); without them every batch plans badly.
  await db.query('ANALYZE');
}

function startChild(
  env: NodeJS.ProcessEnv,
  mode: 'serve' | 'buffered',
  extra: readonly string[] = [],
  forceGc = false,
): ChildProcess {
  const flags = forceGc ? [...NODE_FLAGS, '--expose-gc'] : NODE_FLAGS;
  return spawn(
    process.execPath,
    [...flags, '--import', 'tsx', SELF, `--child-${mode}`, ...extra, ...(forceGc ? ['--force-gc'] : [])],
    {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`bench child exited (${code}) before answering`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}

async function exportOnce(
  env: NodeJS.ProcessEnv,
  key: string,
  ticketType: string,
  forceGc: boolean,
): Promise<{ rows: number; bytes: number; durationMs: number; report: ChildReport }> {
  const child = startChild(env, 'serve', [], forceGc);
  try {
    const { url } = await nextMessage<{ url: string }>(child);
    const headers = { authorization: `Bearer ${key}` };
    // Warm-up: modules loaded, pool open, one page served; then the baseline is taken.
    const warm = await fetch(`${url}/api/payments/transactions?limit=5&ticketType=${ticketType}`, { headers });
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${await warm.text()}`);
    await warm.arrayBuffer();
    child.send('baseline');
    await nextMessage(child);

    const started = performance.now();
    const res = await fetch(`${url}/api/payments/transactions?format=csv&ticketType=${ticketType}`, { headers });
    if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}`);
    let bytes = 0;
    let lines = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (const byte of value) if (byte === 10) lines++;
    }
    const durationMs = performance.now() - started;
    child.send('report');
    const report = await nextMessage<ChildReport>(child);
    return { rows: lines - 1, bytes, durationMs, report };
  } finally {
    child.kill();
  }
}

async function streamedScenario(
  scenario: string,
  env: NodeJS.ProcessEnv,
  key: string,
  ticketType: string,
): Promise<ScenarioResult> {
  const plain = await exportOnce(env, key, ticketType, false);
  const live = await exportOnce(env, key, ticketType, true);
  const result = summarise(scenario, plain.rows, plain.bytes, plain.durationMs, plain.report);
  const { liveHeapMaxBytes, liveHeapBaselineBytes } = live.report;
  result.liveHeapMaxMb = liveHeapMaxBytes === null ? null : mb(liveHeapMaxBytes);
  result.liveHeapGrowthMb =
    liveHeapMaxBytes === null || liveHeapBaselineBytes === null ? null : mb(liveHeapMaxBytes - liveHeapBaselineBytes);
  return result;
}

async function bufferedScenario(env: NodeJS.ProcessEnv, ticketType: string): Promise<ScenarioResult> {
  const child = startChild(env, 'buffered', ['--ticket-type', ticketType]);
  try {
    const result = await nextMessage<{ rows: number; bytes: number; durationMs: number; report: ChildReport }>(child);
    return summarise(
      'buffered (contrast: whole CSV built in memory)',
      result.rows,
      result.bytes,
      result.durationMs,
      result.report,
    );
  } finally {
    child.kill();
  }
}

function summarise(scenario: string, rows: number, bytes: number, durationMs: number, report: ChildReport): ScenarioResult {
  return {
    scenario,
    rows,
    bytes,
    durationMs: Math.round(durationMs),
    rowsPerSecond: Math.round(rows / (durationMs / 1000)),
    baselineRssMb: mb(report.baselineRssBytes),
    peakRssMb: mb(report.peakRssBytes),
    peakGrowthMb: mb(report.peakRssBytes - report.baselineRssBytes),
    processMaxRssMb: mb(report.maxRssBytes),
    heapUsedPeakMb: mb(report.heapUsedPeakBytes),
  };
}

export async function benchCsvExport(options: Record<string, string>): Promise<unknown> {
  const rows = Number(options.rows ?? 10_000);
  const small = Number(options.small ?? 1_000);
  const xl = Number(options.xl ?? 50_000);
  NODE_FLAGS = (options['node-flags'] ?? '').split(' ').filter((flag) => flag.startsWith('--'));
  const environment = await startBenchEnvironment();
  try {
    const seeded = performance.now();
    await seedTransactions(rows, small, xl);
    const seedMs = Math.round(performance.now() - seeded);
    const { key } = await createApiKey(
      { name: 'bench finance', scopes: ['payments:read'], environment: 'test', rateLimitPerMinute: 100_000 },
      { type: 'system', id: 'bench' },
    );
    const env = { ...process.env };
    const results = [
      await streamedScenario(`streamed, ${small} rows`, env, key, 'small'),
      await streamedScenario(`streamed, ${rows} rows`, env, key, 'big'),
      await bufferedScenario(env, 'big'),
    ];
    if (xl > 0) results.push(await streamedScenario(`streamed, ${xl} rows`, env, key, 'xl'));
    const [smallRun, bigRun, , xlRun] = results;
    return {
      rows,
      small,
      xl,
      nodeFlags: NODE_FLAGS,
      batchSize: 500,
      seedMs,
      results,
      constantMemory:
        smallRun && bigRun
          ? {
              peakGrowthSmallMb: smallRun.peakGrowthMb,
              peakGrowthLargeMb: bigRun.peakGrowthMb,
              peakGrowthXlMb: xlRun?.peakGrowthMb ?? null,
              /** [small, rows, xl]: heap kept alive by the export, over its baseline. */
              liveHeapGrowthMb: [smallRun.liveHeapGrowthMb, bigRun.liveHeapGrowthMb, xlRun?.liveHeapGrowthMb ?? null],
            }
          : null,
      note:
        'RSS sampled every 5 ms in the serving process; growth = peak − RSS after a warm-up request. liveHeap* come from a ' +
        'second run of the same export with a full GC every 100 ms: the heap the export keeps alive (flat = constant memory); ' +
        'peak RSS also holds garbage not yet collected and allocator pages V8 keeps.',
    };
  } finally {
    await environment.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Child side

function sampler(forceGc = false) {
  const gc = (globalThis as { gc?: () => void }).gc;
  let peakRss = 0;
  let peakHeap = 0;
  let liveMax: number | null = null;
  let liveBaseline: number | null = null;
  let baseline = process.memoryUsage().rss;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const live = () => {
    if (!gc) return;
    gc();
    liveMax = Math.max(liveMax ?? 0, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 5);
  const gcTimer = forceGc && gc ? setInterval(live, 100) : undefined;
  return {
    resetBaseline() {
      if (forceGc && gc) {
        gc();
        liveBaseline = process.memoryUsage().heapUsed;
        liveMax = liveBaseline;
      }
      baseline = process.memoryUsage().rss;
      peakRss = baseline;
      peakHeap = process.memoryUsage().heapUsed;
    },
    report(): ChildReport {
      sample();
      clearInterval(timer);
      if (gcTimer) clearInterval(gcTimer);
      return {
        baselineRssBytes: baseline,
        peakRssBytes: peakRss,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        heapUsedPeakBytes: peakHeap,
        liveHeapMaxBytes: liveMax,
        liveHeapBaselineBytes: liveBaseline,
      };
    },
  };
}

async function childServe(forceGc: boolean): Promise<void> {
  const { startLocalServer } = await import('../local-server.js');
  const memory = sampler(forceGc);
  const server = await startLocalServer({ port: 0, trustForwardedFor: true });
  process.on('message', (message) => {
    if (message === 'baseline') {
      memory.resetBaseline();
      process.send?.('ok');
    } else if (message === 'report') {
      process.send?.(memory.report(), () => {
        void server.close().then(() => process.exit(0));
      });
    }
  });
  process.send?.({ url: server.url });
}

async function childBuffered(ticketType: string): Promise<void> {
  const { TransactionQuery, csvLine, CSV_COLUMNS } = await import('../../lib/db/queries/transactions.js');
  // Warm up the same modules and pool, then measure.
  await db.query('SELECT 1');
  TransactionQuery.parse({ ticketType });
  const memory = sampler();
  memory.resetBaseline();
  const started = performance.now();
  const rows = await db.queryMany<Parameters<typeof csvLine>[0]>(
    `SELECT p.id, p.created_at AS "createdAt", '' AS "cursorAt", p.order_id AS "orderId", o.order_number AS "orderNumber",
       o.status AS "orderStatus", e.slug AS "eventSlug", p.provider, p.status, p.amount_cents AS "amountCents",
       p.refunded_cents AS "refundedCents", p.disputed_cents AS "disputedCents", p.currency,
       p.provider_session_id AS "providerSessionId", p.provider_payment_id AS "providerPaymentId", p.method_type AS "methodType",
       p.method_brand AS "methodBrand", p.method_last4 AS "methodLast4", p.failure_code AS "failureCode",
       p.completed_at AS "completedAt", c.email AS "customerEmail", c.first_name || ' ' || c.last_name AS "customerName"
     FROM payments p JOIN orders o ON o.id = p.order_id JOIN customers c ON c.id = o.customer_id JOIN events e ON e.id = o.event_id
     WHERE EXISTS (SELECT 1 FROM order_items i JOIN ticket_types t ON t.id = i.ticket_type_id WHERE i.order_id = p.order_id AND t.code = $1)
     ORDER BY p.created_at DESC, p.id DESC`,
    [ticketType],
  );
  const csv = `${CSV_COLUMNS.join(',')}\r\n${rows.map(csvLine).join('')}`;
  const body = new TextEncoder().encode(csv);
  const durationMs = performance.now() - started;
  process.send?.({ rows: rows.length, bytes: body.byteLength, durationMs, report: memory.report() }, () => process.exit(0));
}

const argv = process.argv.slice(2);
if (argv[0] === '--child-serve') {
  await childServe(argv.includes('--force-gc'));
} else if (argv[0] === '--child-buffered') {
  await childBuffered(argv[argv.indexOf('--ticket-type') + 1] ?? 'big');
}
