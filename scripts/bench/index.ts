import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `npm run bench -- <name> [--flag value ...]`: runs one benchmark and prints its JSON result (also
 * written to bench-results/<name>.json). Benchmarks are measurements, never pass/fail tests.
 *   checkout     50 concurrent buyers, 10,000 attempts for 5,000 tickets through the local server
 *   webhooks     10,000 signed Stripe events, 30 % duplicates, 50 concurrent senders
 *   csv-export   finance CSV export of 10,000 transactions, peak RSS
 *   cold-start   every built Vercel function: import + first answer in fresh processes
 *   reconcile    one day of 20,000 transactions per provider reconciled through the sandboxes, peak RSS
 *   analytics    the treasurer's reports over 1,000,000 seeded orders: rollups vs raw tables, p50/p95
 */

type BenchFunction = (options: Record<string, string>) => Promise<unknown>;

const BENCHES: Record<string, { file: string; exportName: string }> = {
  checkout: { file: './checkout.js', exportName: 'benchCheckout' },
  webhooks: { file: './webhooks.js', exportName: 'benchWebhooks' },
  'csv-export': { file: './csv-export.js', exportName: 'benchCsvExport' },
  'cold-start': { file: './cold-start.js', exportName: 'benchColdStart' },
  reconcile: { file: './reconcile.js', exportName: 'benchReconcile' },
  analytics: { file: './analytics.js', exportName: 'benchAnalytics' },
};

const [name, ...rest] = process.argv.slice(2);
const options: Record<string, string> = {};
for (let i = 0; i < rest.length; i++) {
  const flag = rest[i];
  if (flag?.startsWith('--')) {
    const next = rest[i + 1];
    const hasValue = next !== undefined && !next.startsWith('--');
    options[flag.slice(2)] = hasValue ? next : 'true';
    if (hasValue) i++;
  }
}

const entry = name ? BENCHES[name] : undefined;
if (!entry) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join(' | ')}> [--flag value]\n`);
  process.exit(2);
}

try {
  const module = (await import(entry.file)) as Record<string, BenchFunction | undefined>;
  const bench = module[entry.exportName];
  if (typeof bench !== 'function') throw new Error(`${entry.file} does not export ${entry.exportName}`);
  const result = await bench(options);
  const text = JSON.stringify(
    { bench: name, at: new Date().toISOString(), node: process.version, ...(result as object) },
    null,
    2,
  );
  const dir = resolve(import.meta.dirname, '../../bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${text}\n`);
  process.stdout.write(`${text}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`bench ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
