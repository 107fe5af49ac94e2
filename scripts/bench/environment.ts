import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool, db } from '../../lib/db/client.js';
import { migrateUp } from '../../lib/db/migrate.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../lib/embedded-postgres.js';

/**
 * What every benchmark needs: a fresh migrated database (embedded PostgreSQL unless DATABASE_URL is
 * set, where a new database is created and dropped afterwards) and process.env pointing lib/ at it.
 * Benchmarks start their own sandboxes and local server on top (they know what they need).
 */
export interface BenchEnvironment {
  databaseUrl: string;
  /** Maintenance database URL on the same server (for CREATE DATABASE). */
  adminUrl: string;
  close(): Promise<void>;
}

export async function startBenchEnvironment(env: Record<string, string> = {}): Promise<BenchEnvironment> {
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'bf-bench-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir, persistent: false });
    adminUrl = embedded.adminUrl;
  }
  const name = `bf_bench_${Date.now().toString(36)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  await migrateUp({ databaseUrl });
  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    RATE_LIMIT_ENABLED: 'false',
    ALLOWED_ORIGINS: 'http://localhost:3000',
    ...env,
  });
  resetConfigForTests();
  return {
    databaseUrl,
    adminUrl,
    close: async () => {
      await closePool();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
      if (embedded) await embedded.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Before a timed phase: no dirty buffers left, so the checkpoint that earlier writes owe does not land
 * in the middle of the phase. CHECKPOINT needs a superuser or pg_checkpoint (PostgreSQL 15+); without
 * either the phases just run as they are.
 */
export async function checkpoint(): Promise<void> {
  await db.query('CHECKPOINT').catch(() => undefined);
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[index] ?? 0) * 100) / 100;
}

/**
 * Round r (0-based) of `rounds` equal turns over `total` items: where its items start and how many it has.
 * The counts differ by at most one and add up to `total` (the benches' `--rounds`).
 */
export function roundSlice(total: number, rounds: number, r: number): { from: number; count: number } {
  const from = Math.floor((r * total) / rounds);
  return { from, count: Math.floor(((r + 1) * total) / rounds) - from };
}
