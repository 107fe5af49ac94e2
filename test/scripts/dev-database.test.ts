import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKOFFICE_KEY_EXAMPLE } from '../../scripts/lib/dev-database.js';
import { freePort } from '../../scripts/lib/embedded-postgres.js';
import { createEmptyDatabase, withClient } from '../support/databases.js';

/**
 * `npm run dev` tells the CLIs (keys, seed, migrate) where its database is, and prints the line to use elsewhere:
 * a real dev server on a scratch database and free ports, then the real CLIs with no DATABASE_URL at all.
 */

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'bf-dev-db-'));
const devFile = join(scratch, 'dev-database.json');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** The environment of a fresh shell: no database, no provider keys. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'silent', ...extra };
  return env;
}

const cli = (script: string, args: string[], env: NodeJS.ProcessEnv) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], { env, cwd: process.cwd() }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

/** Starts scripts/dev.ts and resolves with its output once it says "ready", or rejects with what it printed. */
async function startDev(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { env, cwd: process.cwd() });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('[dev] ready on')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`dev exited ${code}:\n${output}`)));
  });
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  return await exited;
}

describe('npm run dev and the CLIs: one database, found without DATABASE_URL', () => {
  it('dev prints the DATABASE_URL line and the README key command; keys, seed and migrate status use its database; the file goes on exit', async () => {
    const databaseUrl = await createEmptyDatabase('devdb');
    const [port, stripePort, paypalPort] = [await freePort(), await freePort(), await freePort()];
    const dev = await startDev(
      bareEnv({
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        SANDBOX_STRIPE_PORT: String(stripePort),
        SANDBOX_PAYPAL_PORT: String(paypalPort),
        DEV_DATABASE_FILE: devFile,
      }),
    );
    expect(dev.output()).toContain(`[dev] database: DATABASE_URL=${databaseUrl}\n`);
    expect(dev.output()).toContain(BACKOFFICE_KEY_EXAMPLE);
    expect(JSON.parse(readFileSync(devFile, 'utf8'))).toMatchObject({ url: databaseUrl, pid: dev.child.pid });

    const cliEnv = bareEnv({ DEV_DATABASE_FILE: devFile });
    const created = await cli(
      'scripts/keys.ts',
      ['create', '--name', 'Box office', '--scopes', 'payments:read,webhooks:admin'],
      cliEnv,
    );
    expect(created.stderr).toContain(`using the database of the running npm run dev (pid ${dev.child.pid})`);
    expect(created.code).toBe(0);
    const key = /\b(bf_(?:live|test)_[A-Za-z0-9]{16}_[A-Za-z0-9]{43})\b/.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    const stored = await withClient(databaseUrl, (c) => c.query('SELECT name, scopes FROM api_keys'));
    expect(stored.rows).toEqual([{ name: 'Box office', scopes: ['payments:read', 'webhooks:admin'] }]);

    const seeded = await cli('scripts/seed.ts', [], cliEnv);
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain('boulder-fest-2026');
    const status = await cli('scripts/migrate.ts', ['status'], cliEnv);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/applied \([1-9]\d*\):/);
    expect(status.stdout).toContain('pending (0):');

    expect(await stop(dev.child)).toBe(0);
    expect(existsSync(devFile)).toBe(false);
    const after = await cli('scripts/keys.ts', ['list'], cliEnv);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('No database configured');
  }, 120_000);

  it('ignores a file left by a dev server that is gone, and never overrides DATABASE_URL', async () => {
    const stale = join(scratch, 'stale.json');
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(stale, JSON.stringify({ url: 'postgres://postgres@127.0.0.1:1/nothing', pid: gone.pid, startedAt: '' }));
    const ignored = await cli('scripts/keys.ts', ['list'], bareEnv({ DEV_DATABASE_FILE: stale }));
    expect(ignored.code).toBe(1);
    expect(ignored.stderr).toContain('No database configured');
    expect(ignored.stderr).not.toContain('running npm run dev');

    const alive = join(scratch, 'alive.json');
    writeFileSync(alive, JSON.stringify({ url: 'postgres://postgres@127.0.0.1:1/nothing', pid: process.pid, startedAt: '' }));
    const own = await createEmptyDatabase('devdbown');
    const status = await cli('scripts/migrate.ts', ['status'], bareEnv({ DEV_DATABASE_FILE: alive, DATABASE_URL: own }));
    expect(status.stderr).not.toContain('running npm run dev');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/pending \([1-9]\d*\):/);
  });
});

describe('README: the example back-office key covers what the README then shows', () => {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const scopes = new Set(/--scopes ([\w:,]+)/.exec(BACKOFFICE_KEY_EXAMPLE)?.[1]?.split(',') ?? []);

  /** The scopes an api/ route's handler asks for (`requireApiKey(ctx, 'scope')`), read from its file. */
  function routeScopes(path: string): string[] {
    const base = join(process.cwd(), path.replace(/^\//, '').replace(/\/$/, ''));
    const file = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
    if (!file) throw new Error(`no api/ file for ${path}`);
    return [...readFileSync(file, 'utf8').matchAll(/requireApiKey\(\w+, '([\w:]+)'\)/g)].map((m) => m[1] as string);
  }

  it('shows the same keys:create command as npm run dev prints', () => {
    expect(readme).toContain(BACKOFFICE_KEY_EXAMPLE);
  });

  it('every staff call in the README (Bearer $KEY) needs only scopes the example key has', () => {
    const calls = [...readme.matchAll(/curl [^\n]*?localhost:3000(\/api\/[\w/-]+)[^\n]*\$KEY/g)].map((m) => m[1] as string);
    expect(calls).toEqual(expect.arrayContaining(['/api/payments/transactions', '/api/admin/webhook-events']));
    for (const path of calls) {
      const needed = routeScopes(path);
      expect(needed.length, path).toBeGreaterThan(0);
      for (const scope of needed) expect([...scopes], `${path} needs ${scope}`).toContain(scope);
    }
  });
});
