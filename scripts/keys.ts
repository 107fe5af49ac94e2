import './lib/use-dev-database.js';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  API_KEY_SCOPES,
  type ApiKeyScope,
  createApiKey,
  isApiKeyScope,
  listKeys,
  parseExpiry,
  presentApiKey,
  revokeApiKey,
} from '../lib/auth/api-keys.js';
import { closePool, db } from '../lib/db/client.js';
import type { Actor } from '../lib/db/models/audit-log.js';

/**
 * Staff API keys from the command line (against DATABASE_URL / POSTGRES_URL):
 *   npm run keys:create -- --name "Box office" --scopes orders:read,refunds:write [--expires 30d] [--env test] [--rate-limit 120]
 *   npm run keys:list [-- --json]
 *   npm run keys:revoke -- <key id | bf_live_… prefix>
 * The key is printed once by keys:create and never again (only its hash is stored).
 */

const USAGE = `usage:
  npm run keys:create -- --name "Box office" --scopes orders:read,refunds:write [--expires 30d|12h|2026-12-31] [--env live|test] [--rate-limit N]
  npm run keys:list [-- --json]
  npm run keys:revoke -- <key id | key prefix>
scopes: ${API_KEY_SCOPES.join(', ')}`;

class UsageError extends Error {}

function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep "unknown".
  }
  return { type: 'system', id: `cli:${user}`.slice(0, 100) };
}

const out = (line = '') => process.stdout.write(`${line}\n`);

async function create(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      expires: { type: 'string' },
      env: { type: 'string' },
      'rate-limit': { type: 'string' },
    },
    strict: true,
  });
  const name = values.name?.trim();
  if (!name || name.length > 100) throw new UsageError('--name is required (1 to 100 characters)');
  const scopes = (values.scopes ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter((scope) => scope.length > 0);
  const unknown = scopes.filter((scope) => !isApiKeyScope(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--scopes needs one or more of ${API_KEY_SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  }
  const environment = values.env ?? 'live';
  if (environment !== 'live' && environment !== 'test') throw new UsageError('--env is live or test');
  const rateLimit = values['rate-limit'] === undefined ? undefined : Number(values['rate-limit']);
  if (rateLimit !== undefined && (!Number.isInteger(rateLimit) || rateLimit < 1 || rateLimit > 100_000)) {
    throw new UsageError('--rate-limit is a whole number of requests per minute (1 to 100000)');
  }
  let expiresAt: Date | undefined;
  try {
    expiresAt = parseExpiry(values.expires);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const created = await createApiKey(
    { name, scopes: scopes as ApiKeyScope[], environment, expiresAt, rateLimitPerMinute: rateLimit },
    cliActor(),
  );
  const view = presentApiKey(created.record);
  out(`Created API key "${view.name}" (${view.id})`);
  out(`  scopes:     ${view.scopes.join(', ')}`);
  out(`  expires:    ${view.expiresAt ?? 'never'}`);
  out(`  rate limit: ${view.rateLimitPerMinute}/minute`);
  out();
  out(`  ${created.key}`);
  out();
  out('This is the only time the key is shown. Store it in a password manager; revoke it with');
  out(`npm run keys:revoke -- ${view.id}`);
}

async function list(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const keys = (await listKeys()).map((key) => presentApiKey(key));
  if (values.json) {
    out(JSON.stringify(keys, null, 2));
    return;
  }
  if (keys.length === 0) {
    out('No API keys yet (npm run keys:create).');
    return;
  }
  for (const key of keys) {
    out(
      [
        key.id,
        key.prefix,
        key.status.padEnd(7),
        `"${key.name}"`,
        key.scopes.join(','),
        `expires ${key.expiresAt ?? 'never'}`,
        `used ${key.usageCount}x${key.lastUsedAt ? `, last ${key.lastUsedAt}` : ''}`,
      ].join('  '),
    );
  }
}

async function revoke(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const target = positionals[0]?.trim();
  if (!target || positionals.length > 1) throw new UsageError('keys:revoke takes one key id or prefix');
  let id = target;
  if (target.startsWith('bf_')) {
    // A prefix (or, pasted by mistake, a whole key: only its prefix part is used).
    const prefix = /^bf_(live|test)_[A-Za-z0-9]{8,32}/.exec(target)?.[0];
    const row = prefix ? await db.queryOne<{ id: string }>('SELECT id FROM api_keys WHERE prefix = $1', [prefix]) : undefined;
    if (!row) throw new UsageError(`no API key with prefix ${prefix ?? target}`);
    id = row.id;
  } else if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(target)) {
    throw new UsageError('give the key id (uuid) or its bf_live_/bf_test_ prefix');
  }
  const revoked = presentApiKey(await revokeApiKey(id, cliActor()));
  out(`Revoked API key "${revoked.name}" (${revoked.id}, ${revoked.prefix}) at ${revoked.revokedAt}`);
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'create') await create(rest);
  else if (command === 'list') await list(rest);
  else if (command === 'revoke') await revoke(rest);
  else throw new UsageError(`unknown command ${command ?? '(none)'}`);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`keys ${command ?? ''} failed: ${message.split('\n')[0]}\n`);
  if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exitCode = 1;
} finally {
  await closePool();
}
