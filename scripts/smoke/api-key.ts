import { API_KEY_SCOPES, createApiKey } from '../../lib/auth/api-keys.js';
import { resetConfigForTests } from '../../lib/config.js';
import { closePool } from '../../lib/db/client.js';

/** How long the smoke's key lives: a run against a database that is kept leaves no usable key behind. */
export const SMOKE_KEY_MINUTES = 30;

const DATABASE_ENV = ['DATABASE_URL', 'POSTGRES_URL', 'POSTGRES_URL_NON_POOLING', 'DATABASE_DRIVER'] as const;

/**
 * A staff API key with every scope, made by lib/auth (createApiKey: the key format, its hash and the audit entry,
 * as `npm run keys:create` makes them) in the smoke's database. lib/ reads its database from the environment: it is
 * pointed at `databaseUrl` (pg driver) for this one call, then put back as it was.
 */
export async function createSmokeApiKey(databaseUrl: string): Promise<{ key: string; id: string }> {
  const saved = Object.fromEntries(DATABASE_ENV.map((name) => [name, process.env[name]]));
  const switched = process.env.DATABASE_URL !== databaseUrl || (process.env.DATABASE_DRIVER ?? 'pg') !== 'pg';
  if (switched) {
    await closePool();
    for (const name of DATABASE_ENV) delete process.env[name];
    Object.assign(process.env, { DATABASE_URL: databaseUrl, DATABASE_DRIVER: 'pg' });
    resetConfigForTests();
  }
  try {
    const created = await createApiKey(
      {
        name: 'vercel smoke',
        scopes: API_KEY_SCOPES,
        environment: 'test',
        expiresAt: new Date(Date.now() + SMOKE_KEY_MINUTES * 60_000),
      },
      { type: 'system', id: 'smoke-vercel-output' },
    );
    return { key: created.key, id: created.record.id };
  } finally {
    if (switched) {
      await closePool();
      for (const name of DATABASE_ENV) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      resetConfigForTests();
    }
  }
}
