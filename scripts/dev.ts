import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { resetConfigForTests } from '../lib/config.js';
import { closePool, db } from '../lib/db/client.js';
import { migrateUp } from '../lib/db/migrate.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './lib/embedded-postgres.js';
import { seedDemoData } from './lib/seed.js';
import { startLocalServer } from './local-server.js';
import { type MailCatcher, startMailCatcher } from './mail-catcher.js';

/**
 * `npm run dev`: everything a developer needs on a fresh clone, with no env at all.
 * - No DATABASE_URL: a real embedded PostgreSQL (data in .data/postgres, git-ignored, kept between runs).
 * - Migrates and seeds the demo festival.
 * - No STRIPE_SECRET_KEY / PAYPAL_CLIENT_ID: starts the local provider sandboxes and points the app at them.
 * - No SMTP_URL: starts a local mail catcher (SMTP on 127.0.0.1:1025, MAIL_CATCHER_PORT to change) and
 *   shows what it caught at http://localhost:3000/dev/mail.
 * - Serves api/ and public/ on http://localhost:3000 (PORT to change). Ctrl-C stops everything cleanly.
 */

const root = resolve(import.meta.dirname, '..');
const envFile = join(root, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

const port = Number(process.env.PORT ?? 3000);
const appUrl = `http://localhost:${port}`;
const started = performance.now();
const say = (line: string) => process.stdout.write(`[dev] ${line}\n`);
const cleanups: (() => Promise<void>)[] = [];

async function ensureDatabase(): Promise<void> {
  if (process.env.DATABASE_URL || process.env.POSTGRES_URL) {
    say('using DATABASE_URL');
    return;
  }
  const embedded: EmbeddedDatabase = await startEmbeddedPostgres({
    dataDir: join(root, '.data', 'postgres'),
    port: Number(process.env.EMBEDDED_PG_PORT ?? 54329),
    persistent: true,
  });
  cleanups.push(() => embedded.stop());
  const admin = new pg.Client({ connectionString: embedded.adminUrl });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['boulderfest']);
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE boulderfest');
  await admin.end();
  process.env.DATABASE_URL = embedded.adminUrl.replace(/\/postgres$/, '/boulderfest');
  say(`embedded PostgreSQL 17 on 127.0.0.1:${embedded.port} (data in .data/postgres)`);
}

async function ensureProviders(): Promise<void> {
  process.env.ALLOWED_ORIGINS ??= `${appUrl},http://127.0.0.1:${port}`;
  process.env.PUBLIC_SITE_URL ??= appUrl;
  process.env.CRON_SECRET ??= 'dev-cron-secret';
  const needStripe = !process.env.STRIPE_SECRET_KEY;
  const needPayPal = !process.env.PAYPAL_CLIENT_ID;
  if (!needStripe && !needPayPal) return;
  const { startSandboxes } = await import('../sandbox/index.js');
  const stripeWebhookSecret = process.env.STRIPE_WEBHOOK_SECRET?.split(',')[0] ?? 'whsec_local_sandbox_secret';
  const paypalWebhookId = process.env.PAYPAL_WEBHOOK_ID ?? 'WH-LOCAL-SANDBOX';
  const sandboxes = await startSandboxes({
    appUrl,
    stripeWebhookSecret,
    paypalWebhookId,
    stripePort: Number(process.env.SANDBOX_STRIPE_PORT ?? 12111),
    paypalPort: Number(process.env.SANDBOX_PAYPAL_PORT ?? 12112),
  });
  cleanups.push(() => sandboxes.close());
  if (needStripe) {
    process.env.STRIPE_SECRET_KEY = 'sk_test_local_sandbox';
    process.env.STRIPE_WEBHOOK_SECRET = stripeWebhookSecret;
    process.env.STRIPE_API_BASE = sandboxes.stripe.url;
    say(`Stripe sandbox on ${sandboxes.stripe.url} (card 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined)`);
  }
  if (needPayPal) {
    process.env.PAYPAL_CLIENT_ID = 'local-sandbox-client';
    process.env.PAYPAL_CLIENT_SECRET = 'local-sandbox-secret';
    process.env.PAYPAL_WEBHOOK_ID = paypalWebhookId;
    process.env.PAYPAL_API_BASE = sandboxes.paypal.url;
    say(`PayPal sandbox on ${sandboxes.paypal.url}`);
  }
}

/** The buyer emails go to a local catcher unless SMTP_URL points somewhere (e.g. a Mailtrap inbox). */
async function ensureMail(): Promise<MailCatcher | undefined> {
  if (process.env.SMTP_URL) {
    say('email through SMTP_URL');
    return undefined;
  }
  const catcher = await startMailCatcher({ port: Number(process.env.MAIL_CATCHER_PORT ?? 1025) });
  cleanups.push(() => catcher.close());
  process.env.SMTP_URL = catcher.url;
  say(`mail catcher on ${catcher.url}: buyer emails at ${appUrl}/dev/mail`);
  return catcher;
}

async function shutdown(signal: string): Promise<void> {
  say(`${signal}: stopping`);
  await closePool().catch(() => undefined);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(0);
}

try {
  await ensureDatabase();
  await ensureProviders();
  const mailCatcher = await ensureMail();
  resetConfigForTests();
  const databaseUrl = process.env.DATABASE_URL ?? process.env.POSTGRES_URL ?? '';
  const applied = await migrateUp({ databaseUrl: process.env.POSTGRES_URL_NON_POOLING ?? databaseUrl });
  say(applied.length === 0 ? 'migrations up to date' : `applied ${applied.length} migrations`);
  const { event, ticketTypes } = await seedDemoData(db);
  say(`seeded ${event.name}: ${ticketTypes.map((t) => t.code).join(', ')}`);
  const server = await startLocalServer({
    port,
    host: process.env.HOST ?? '127.0.0.1',
    ...(mailCatcher ? { mailCatcher } : {}),
  });
  cleanups.unshift(() => server.close());
  say(`ready on ${appUrl} in ${((performance.now() - started) / 1000).toFixed(1)} s — try ${appUrl}/api/health`);
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  process.stderr.write(`[dev] failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(1);
}
