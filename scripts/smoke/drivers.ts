/** The database driver of the function processes (--driver). */

/** The values of the app's DATABASE_DRIVER (lib/config.ts). */
export const SMOKE_DRIVERS = ['pg', 'vercel-postgres'] as const;
export type SmokeDriver = (typeof SMOKE_DRIVERS)[number];

/** `--driver NAME` or `--driver=NAME` (default pg). Throws on a missing or unknown name: never a silent pg run. */
export function driverOption(args: readonly string[]): SmokeDriver {
  let value: string | undefined = 'pg';
  args.forEach((arg, i) => {
    if (arg === '--driver') value = args[i + 1]?.startsWith('--') ? undefined : args[i + 1];
    else if (arg.startsWith('--driver=')) value = arg.slice('--driver='.length);
  });
  const driver = SMOKE_DRIVERS.find((name) => name === value);
  if (!driver) throw new Error(`--driver needs one of ${SMOKE_DRIVERS.join(', ')} (got ${value ?? 'nothing'})`);
  return driver;
}

/**
 * The env the function processes get to run on `driver` against the database at `databaseUrl`, over `env`.
 * pg: DATABASE_URL. vercel-postgres: what the Vercel Postgres / Neon integration sets, POSTGRES_URL and
 * POSTGRES_URL_NON_POOLING, and no DATABASE_URL (the app prefers it over POSTGRES_URL), plus
 * VERCEL_POSTGRES_WS_PROXY, the local proxy the driver's WebSocket goes through.
 */
export function driverEnv(
  env: Record<string, string | undefined>,
  driver: SmokeDriver,
  databaseUrl: string,
  wsProxy?: string,
): Record<string, string | undefined> {
  if (driver === 'pg') return { ...env, DATABASE_DRIVER: 'pg', DATABASE_URL: databaseUrl };
  if (!wsProxy)
    throw new Error('the vercel-postgres driver needs a WebSocket proxy (VERCEL_POSTGRES_WS_PROXY) to reach a local database');
  return {
    ...env,
    DATABASE_DRIVER: 'vercel-postgres',
    DATABASE_URL: undefined,
    POSTGRES_URL: databaseUrl,
    POSTGRES_URL_NON_POOLING: databaseUrl,
    VERCEL_POSTGRES_WS_PROXY: wsProxy,
  };
}
