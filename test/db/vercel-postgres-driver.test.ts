import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DbPool, PoolSettings } from '../../lib/db/drivers/types.js';
import { createVercelPostgresPool, withLocalhostHost } from '../../lib/db/drivers/vercel-postgres.js';
import { toDbError } from '../../lib/db/errors.js';
import { freePort } from '../../scripts/lib/embedded-postgres.js';
import { startWsProxy, type WsProxy } from '../support/ws-proxy.js';

/**
 * The @vercel/postgres driver against a real local PostgreSQL, through test/support/ws-proxy.ts
 * (the driver only speaks WebSocket). DATABASE_URL when set, else the machine's local server.
 */
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
const table = `vpg_driver_test_${suffix}`;

function settings(overrides: Partial<PoolSettings> = {}): PoolSettings {
  return {
    connectionString: DATABASE_URL,
    max: 3,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 5_000,
    statementTimeoutMillis: 15_000,
    applicationName: `vpg-test-${suffix}`,
    ...overrides,
  };
}

/** Waits for an eventually-true condition (not a timing assertion: it only bounds the wait). */
async function eventually(check: () => Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never became true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens a raw WebSocket to the proxy and reports the HTTP status it answered the upgrade with. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (error) => reject(error));
  });
}

let proxy: WsProxy;
let pool: DbPool;

beforeAll(async () => {
  proxy = await startWsProxy();
  pool = createVercelPostgresPool(settings(), { wsProxy: proxy.wsProxy });
  await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text NOT NULL)`);
});

afterAll(async () => {
  await pool?.query(`DROP TABLE IF EXISTS ${table}`);
  await pool?.end();
  await proxy?.close();
});

describe('vercel-postgres driver through the local WebSocket proxy', () => {
  it('runs parameterised queries and parses column types', async () => {
    const result = await pool.query<{
      n: number;
      s: string;
      big: number;
      price: string;
      flag: boolean;
      at: Date;
      doc: { a: number[] };
      nothing: null;
    }>(
      `SELECT $1::int AS n, $2::text AS s, $3::int8 AS big, $4::numeric(10,2) AS price, $5::boolean AS flag,
              $6::timestamptz AS at, $7::jsonb AS doc, $8::text AS nothing`,
      [41, "it's quoted; -- not SQL", '9007199254740991', '12.50', true, '2026-05-01T12:00:00Z', { a: [1, 2] }, null],
    );
    expect(result.rowCount).toBe(1);
    const row = result.rows[0];
    expect(row).toBeDefined();
    expect(row?.n).toBe(41);
    expect(row?.s).toBe("it's quoted; -- not SQL");
    // int8 comes back as a number, as with the pg driver.
    expect(row?.big).toBe(Number.MAX_SAFE_INTEGER);
    expect(row?.price).toBe('12.50');
    expect(row?.flag).toBe(true);
    expect(row?.at).toBeInstanceOf(Date);
    expect(row?.at.toISOString()).toBe('2026-05-01T12:00:00.000Z');
    expect(row?.doc).toEqual({ a: [1, 2] });
    expect(row?.nothing).toBeNull();

    const many = await pool.query<{ i: number }>('SELECT generate_series(1, $1::int) AS i', [5]);
    expect(many.rowCount).toBe(5);
    expect(many.rows.map((r) => r.i)).toEqual([1, 2, 3, 4, 5]);
    // Every connection of this pool went through the WebSocket proxy.
    expect(proxy.tunnelsOpened).toBeGreaterThan(0);
  });

  it('applies statement_timeout and application_name to the session', async () => {
    const { rows } = await pool.query<{ timeout: string; app: string }>(
      `SELECT current_setting('statement_timeout') AS timeout, current_setting('application_name') AS app`,
    );
    expect(rows[0]).toEqual({ timeout: '15s', app: `vpg-test-${suffix}` });
  });

  it('runs a named statement as a prepared statement of the connection (lib/db/statement.ts)', async () => {
    const client = await pool.connect();
    try {
      const name = `bf_vpg_${suffix}`;
      const squares: number[] = [];
      for (const n of [2, 3]) {
        const { rows } = await client.query<{ n: number }>({ name, text: 'SELECT $1::int * $1::int AS n', values: [n] });
        squares.push(rows[0]?.n ?? -1);
      }
      const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
      expect(squares).toEqual([4, 9]);
      expect(rows.map((r) => r.name)).toContain(name);
    } finally {
      client.release();
    }
  });

  it('commits a transaction on one client, and a ROLLBACK really discards', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [1, 'committed']);
      // Not visible to other connections until COMMIT.
      const outside = await pool.query(`SELECT id FROM ${table} WHERE id = 1`);
      expect(outside.rowCount).toBe(0);
      await client.query('COMMIT');

      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [2, 'rolled back']);
      await client.query(`UPDATE ${table} SET label = $1 WHERE id = $2`, ['changed', 1]);
      const inside = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect(inside.rows[0]?.n).toBe(2);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }

    const after = await pool.query<{ id: number; label: string }>(`SELECT id, label FROM ${table} ORDER BY id`);
    expect(after.rows).toEqual([{ id: 1, label: 'committed' }]);
  });

  it('rejects with the Postgres error fields (code, constraint, table) on a unique violation', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TEMP TABLE vpg_unique_probe (email text CONSTRAINT vpg_unique_probe_email_key UNIQUE)');
      await client.query('INSERT INTO vpg_unique_probe (email) VALUES ($1)', ['a@example.test']);
      const error = await client.query('INSERT INTO vpg_unique_probe (email) VALUES ($1)', ['a@example.test']).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        code: '23505',
        constraint: 'vpg_unique_probe_email_key',
        table: 'vpg_unique_probe',
        severity: 'ERROR',
      });
      expect((error as { detail?: string }).detail).toContain('a@example.test');
      // The connection is still usable after a failed statement outside a transaction.
      const ok = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM vpg_unique_probe');
      expect(ok.rows[0]?.n).toBe(1);
      await client.query('DROP TABLE vpg_unique_probe');
    } finally {
      client.release();
    }
  });

  it('cancels a statement that runs past statement_timeout (57014) and keeps the pool usable', async () => {
    const strict = createVercelPostgresPool(settings({ statementTimeoutMillis: 100, max: 1 }), {
      wsProxy: proxy.url, // the ws:// form is accepted too
    });
    try {
      await expect(strict.query('SELECT pg_sleep(30)')).rejects.toMatchObject({ code: '57014' });
      const { rows } = await strict.query<{ one: number }>('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await strict.end();
    }
  });

  it('end() closes every connection and refuses further queries', async () => {
    const app = `vpg-end-${suffix}`;
    const doomed = createVercelPostgresPool(settings({ applicationName: app, max: 2 }), { wsProxy: proxy.wsProxy });
    const openedBefore = proxy.tunnelsOpened;
    const a = await doomed.connect();
    const b = await doomed.connect();
    expect(proxy.tunnelsOpened - openedBefore).toBe(2);
    a.release();
    b.release();
    const countSessions = async () =>
      (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]))
        .rows[0]?.n;
    expect(await countSessions()).toBe(2);

    await doomed.end();
    await expect(doomed.query('SELECT 1')).rejects.toThrow(/after calling end/);
    // The server sees both backends go away once the proxy has closed the TCP side.
    await eventually(async () => (await countSessions()) === 0, 'sessions of the ended pool are gone');
  });

  it('maps a refused connection (the WebSocket error event, no code of its own) to CONNECTION_ERROR', async () => {
    const deadPort = await freePort();
    const dead = createVercelPostgresPool(settings({ connectionTimeoutMillis: 3_000 }), {
      wsProxy: `127.0.0.1:${deadPort}/v1`,
    });
    try {
      const error = await dead.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(toDbError(error).kind).toBe('CONNECTION_ERROR');
    } finally {
      await dead.end().catch(() => undefined);
    }
  });
});

describe('driver configuration', () => {
  it('refuses a non-pooled, non-local connection string like @vercel/postgres does', () => {
    expect(() =>
      createVercelPostgresPool(settings({ connectionString: 'postgresql://u:p@ep-cool-123456.us-east-2.aws.neon.tech/db' })),
    ).toThrow(/invalid_connection_string/);
  });

  it('accepts a Neon pooled connection string without connecting', async () => {
    const lazy = createVercelPostgresPool(
      settings({ connectionString: 'postgresql://u:p@ep-cool-123456-pooler.us-east-2.aws.neon.tech/db' }),
    );
    await lazy.end();
  });

  it('rejects a wsProxy with a protocol other than ws://', () => {
    expect(() => createVercelPostgresPool(settings(), { wsProxy: 'wss://127.0.0.1:1/v1' })).toThrow(/wsProxy/);
  });

  it('spells loopback IP hosts as localhost and leaves everything else alone', () => {
    expect(withLocalhostHost('postgres://user:p%40ss@127.0.0.1:5432/test?sslmode=disable')).toBe(
      'postgres://user:p%40ss@localhost:5432/test?sslmode=disable',
    );
    expect(withLocalhostHost('postgresql://u@[::1]:6543/db')).toBe('postgresql://u@localhost:6543/db');
    const untouched = 'postgresql://u:p@ep-x-pooler.us-east-2.aws.neon.tech/db?sslmode=require';
    expect(withLocalhostHost(untouched)).toBe(untouched);
    expect(withLocalhostHost('not a url')).toBe('not a url');
  });
});

describe('ws-proxy', () => {
  it('refuses targets that are not loopback and requests without an address', async () => {
    expect(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/v1?address=10.1.2.3:5432`)).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/v1?address=db.example.com:5432`)).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/v1`)).toBe(400);
    expect(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/v1?address=localhost:notaport`)).toBe(400);
  });
});
