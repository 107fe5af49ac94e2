import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../scripts/lib/embedded-postgres.js';
import { assertPortFree, claimPort, describeError, PortInUseError } from '../../scripts/lib/ports.js';

/**
 * A busy port stops `npm run dev` with a line naming the port, what wanted it and the variable that moves it
 * (it used to print "failed to start: undefined"). Real ports, really occupied, and the real start path.
 */

const run = promisify(execFile);
const held: Server[] = [];
afterAll(async () => {
  await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Occupies a free port on 127.0.0.1 until the end of the file. */
async function occupy(): Promise<number> {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  held.push(server);
  return port;
}

/** Runs scripts/dev.ts with `env` (plus free ports for everything not given) and returns how it ended. */
async function dev(env: Record<string, string>): Promise<{ code: number; stderr: string; stdout: string }> {
  const ports = {
    PORT: String(await freePort()),
    SANDBOX_STRIPE_PORT: String(await freePort()),
    SANDBOX_PAYPAL_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
  };
  const full = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'silent', ...ports, ...env };
  return await run(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { env: full, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('npm run dev on a busy port', () => {
  const databaseUrl = inject('databaseUrl');
  for (const [variable, what, withDatabase] of [
    ['EMBEDDED_PG_PORT', 'embedded PostgreSQL', false],
    ['SANDBOX_STRIPE_PORT', 'Stripe sandbox', true],
    ['SANDBOX_PAYPAL_PORT', 'PayPal sandbox', true],
    ['PORT', 'app server', true],
  ] as const) {
    it(`${variable} busy: names the port, the ${what} and ${variable}; exit 1, nothing started`, async () => {
      const port = await occupy();
      const result = await dev({ [variable]: String(port), ...(withDatabase ? { DATABASE_URL: databaseUrl } : {}) });
      expect(result.code).toBe(1);
      const line = result.stderr.split('\n').find((l) => l.startsWith('[dev] failed to start:'));
      expect(line).toBeDefined();
      expect(line).toContain(`port ${port} is already in use`);
      expect(line).toContain(what);
      expect(line).toContain(`${variable}=<another port> npm run dev`);
      expect(line).not.toContain('undefined');
      // Refused before the database was touched or anything listened.
      expect(result.stdout).not.toContain('migrations');
    });
  }
});

describe('scripts/lib/ports.ts', () => {
  it('assertPortFree passes a free port and names a busy one', async () => {
    const free = await freePort();
    await expect(assertPortFree({ port: free, what: 'thing', variable: 'THING_PORT' })).resolves.toBeUndefined();
    const busy = await occupy();
    const error = await assertPortFree({ port: busy, what: 'thing', variable: 'THING_PORT' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toMatch(new RegExp(`^port ${busy} is already in use: the thing wants it\\..*THING_PORT=`));
  });

  it('claimPort turns the EADDRINUSE of a start that lost the race into the named error, and passes others through', async () => {
    const busy = await occupy();
    const claim = { port: busy, what: 'Stripe sandbox', variable: 'SANDBOX_STRIPE_PORT' };
    const listen = () =>
      new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(busy, '127.0.0.1', () => server.close(() => resolve()));
      });
    await expect(claimPort(claim, listen)).rejects.toThrow(`port ${busy} is already in use: the Stripe sandbox wants it`);
    await expect(claimPort(claim, async () => Promise.reject(new Error('other')))).rejects.toThrow(/^other$/);
  });

  it('describeError never says "undefined"', () => {
    expect(describeError(undefined)).toBe('no reason given (undefined)');
    expect(describeError(Object.assign(new Error(''), { code: 'EADDRINUSE' }))).toBe('Error EADDRINUSE');
    expect(describeError({ code: 1 })).toBe('{"code":1}');
    expect(describeError(new Error('boom'))).toBe('boom');
  });
});
