import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { authenticateApiKey } from '../../lib/auth/api-keys.js';

const run = promisify(execFile);
const env = { ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent' };
const keys = (...args: string[]) => run('npx', ['tsx', 'scripts/keys.ts', ...args], { env });

describe('npm run keys:* (scripts/keys.ts)', () => {
  it('creates a key printed once, lists it without the secret, revokes it by prefix', async () => {
    const name = `CLI box office ${Date.now()}`;
    const created = await keys(
      'create',
      '--name',
      name,
      '--scopes',
      'orders:read,refunds:write',
      '--expires',
      '30d',
      '--env',
      'test',
    );
    const key = /\b(bf_test_[A-Za-z0-9]{16}_[A-Za-z0-9]{43})\b/.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    expect(created.stdout).toContain('only time the key is shown');
    const auth = await authenticateApiKey(key ?? '');
    expect(auth.ok && auth.key.scopes).toEqual(['orders:read', 'refunds:write']);
    expect(auth.ok && auth.key.expiresAt).toBeInstanceOf(Date);

    const listed = await keys('list', '--json');
    const entry = (JSON.parse(listed.stdout) as { name: string; prefix: string; status: string }[]).find((k) => k.name === name);
    expect(entry).toMatchObject({ status: 'active', prefix: key?.slice(0, 24) });
    expect(listed.stdout).not.toContain(key);

    const revoked = await keys('revoke', key?.slice(0, 24) ?? '');
    expect(revoked.stdout).toMatch(/^Revoked API key/);
    expect(await authenticateApiKey(key ?? '')).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses unknown scopes and missing names with a one-line reason and the usage, exit code 1', async () => {
    for (const args of [
      ['create', '--name', 'x', '--scopes', 'orders:read,root'],
      ['create', '--scopes', 'orders:read'],
      ['create', '--name', 'x', '--scopes', 'orders:read', '--expires', 'yesterday'],
      ['revoke', 'not-an-id'],
    ]) {
      const failure = await keys(...args).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code, args.join(' ')).toBe(1);
      expect(failure?.stderr.split('\n')[0]).toMatch(/^keys \w+ failed: /);
      expect(failure?.stderr).toContain('usage:');
    }
  });
});
