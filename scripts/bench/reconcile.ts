import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closePool } from '../../lib/db/client.js';
import { reconcileDay } from '../../lib/reconciliation/reconcile-day.js';
import type { ReconcileOutcome } from '../../lib/reconciliation/types.js';
import { startPayPalReportingSandbox, startStripeReportingSandbox } from '../../sandbox/reporting-servers.js';
import { seedBooks } from '../lib/recon-books.js';
import { startBenchEnvironment } from './environment.js';

/**
 * `npm run bench -- reconcile [--transactions 20000] [--small 2000] [--budget-ms 45000]`
 *
 * One UTC day of `transactions` provider records per provider (Stripe balance transactions: charges
 * and every 10th charge refunded; PayPal Transaction Search: captures and refunds alike), generated
 * through the sandboxes' test control, with our books holding the matching payments and refunds (bulk
 * SQL). The reconciliation itself runs in a fresh child process (the "function") against the
 * sandboxes over HTTP through the real SDKs, calling reconcileDay the way the cron does: a time budget
 * per call (`budget-ms`, under the 60 s maxDuration), each further call continuing the run from its
 * stored cursor, until the day is complete. The child samples its RSS every 5 ms.
 *
 * Reported per provider: seconds (all calls), transactions per second, calls (runs of the cron it
 * took), peak RSS and its growth over the warmed-up baseline, and the live heap after a full GC
 * (sampled every 250 ms; what the run keeps alive, as opposed to garbage not yet collected), for
 * `small` and for `transactions` records: constant memory = the live heap does not grow with the
 * number of records. A measurement, not a test.
 */

const SELF = fileURLToPath(import.meta.url);
/** One day per size: the books of one size are not on the other's day. */
const DAYS = ['2026-06-14', '2026-06-15'] as const;
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

interface ChildReport {
  provider: string;
  records: number;
  mismatches: number;
  matched: number;
  calls: number;
  seconds: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  /** Heap still in use right after a full GC (sampled every 250 ms): what the run keeps alive. */
  liveHeapBaselineBytes: number;
  liveHeapMaxBytes: number;
}

async function child(provider: 'stripe' | 'paypal', day: string, budgetMs: number): Promise<void> {
  // Warm up the code paths (SDK load, pool) on an empty day, then measure.
  await reconcileDay({ provider, day: '2001-01-01', restart: true });
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  const liveBaseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  let liveMax = liveBaseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const gcTimer = setInterval(() => {
    global.gc?.();
    liveMax = Math.max(liveMax, process.memoryUsage().heapUsed);
  }, 250);
  const started = performance.now();
  let outcome: ReconcileOutcome = await reconcileDay({ provider, day, restart: true, timeBudgetMs: budgetMs });
  let calls = 1;
  while (outcome.status !== 'completed') {
    outcome = await reconcileDay({ provider, day, timeBudgetMs: budgetMs });
    calls += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  clearInterval(gcTimer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const report: ChildReport = {
    provider,
    records: outcome.recordsTotal,
    mismatches: outcome.summary?.mismatches ?? -1,
    matched: outcome.summary?.counts.matched ?? -1,
    calls,
    seconds,
    baselineRssBytes: baseline,
    peakRssBytes: peak,
    liveHeapBaselineBytes: liveBaseline,
    liveHeapMaxBytes: liveMax,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await closePool();
}

function runChild(provider: string, day: string, budgetMs: number, env: Record<string, string>): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, '--child', provider, day, String(budgetMs)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`child ${provider} exited ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as ChildReport);
    });
  });
}

export async function benchReconcile(options: Record<string, string>) {
  const transactions = Number(options.transactions ?? 20_000);
  const small = Number(options.small ?? 2_000);
  const budgetMs = Number(options['budget-ms'] ?? 45_000);
  const environment = await startBenchEnvironment();
  const stripe = await startStripeReportingSandbox();
  const paypal = await startPayPalReportingSandbox();
  const env = {
    DATABASE_URL: environment.databaseUrl,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    STRIPE_SECRET_KEY: 'sk_test_bench_reconcile',
    STRIPE_API_BASE: stripe.url,
    PAYPAL_CLIENT_ID: 'bench-client',
    PAYPAL_CLIENT_SECRET: 'bench-secret',
    PAYPAL_API_BASE: paypal.url,
  };
  try {
    const results: Record<string, unknown>[] = [];
    for (const [index, count] of [small, transactions].entries()) {
      const day = DAYS[index] as string;
      const charges = Math.ceil(count / 1.1);
      const s = stripe.store.generateDay({ day, charges, refundEvery: 10 });
      const p = paypal.store.generateDay({ day, captures: charges, refundEvery: 10 });
      await seedBooks(
        'stripe',
        s.charges.map((c) => ({
          reference: c.paymentIntentId,
          amountCents: c.amount,
          at: new Date(c.created * 1000),
          feeCents: c.fee,
        })),
        s.refunds.map((r) => ({
          reference: r.refundId,
          paymentReference: r.paymentIntentId,
          amountCents: r.amount,
          at: new Date(r.created * 1000),
        })),
      );
      await seedBooks(
        'paypal',
        p.captures.map((c) => ({ reference: c.captureId, amountCents: c.amountMinor, at: new Date(c.at), feeCents: c.feeMinor })),
        p.refunds.map((r) => ({
          reference: r.refundId,
          paymentReference: r.captureId,
          amountCents: r.amountMinor,
          at: new Date(r.at),
        })),
      );
      for (const provider of ['stripe', 'paypal'] as const) {
        const report = await runChild(provider, day, budgetMs, env);
        results.push({
          provider,
          day,
          transactions: report.records,
          matched: report.matched,
          mismatches: report.mismatches,
          seconds: Math.round(report.seconds * 100) / 100,
          transactionsPerSecond: Math.round(report.records / report.seconds),
          calls: report.calls,
          baselineRssMb: mb(report.baselineRssBytes),
          peakRssMb: mb(report.peakRssBytes),
          peakGrowthMb: mb(report.peakRssBytes - report.baselineRssBytes),
          liveHeapGrowthMb: mb(report.liveHeapMaxBytes - report.liveHeapBaselineBytes),
        });
      }
    }
    return { budgetMsPerCall: budgetMs, results };
  } finally {
    await stripe.close();
    await paypal.close();
    await environment.close();
  }
}

if (process.argv[2] === '--child') {
  const provider = process.argv[3] === 'paypal' ? 'paypal' : 'stripe';
  await child(provider, process.argv[4] ?? DAYS[1], Number(process.argv[5] ?? 45_000));
  process.exit(0);
}
