/**
 * `npm run vercel -- <args>`: the pinned Vercel CLI (the one `npm run build:vercel` builds with), run under
 * Node 22 and installed on demand into the same git-ignored cache. For the deploy steps that need Vercel's
 * servers (`pull`, `deploy --prebuilt`), so CI pulls, builds and deploys with one CLI version:
 *
 *   npm run vercel -- pull --yes --environment=production --token=$VERCEL_TOKEN
 *   npm run build:vercel -- --prod && npm run smoke:vercel -- --fresh-db
 *   npm run vercel -- deploy --prebuilt --prod --token=$VERCEL_TOKEN
 *
 * Exits with the CLI's exit code.
 */
import { spawn } from 'node:child_process';
import { delimiter, dirname } from 'node:path';
import { ensureVercelTools, REPO_ROOT } from './lib/vercel-toolchain.js';

const tools = ensureVercelTools();
const child = spawn(tools.nodeBin, [tools.vercelBin, ...process.argv.slice(2)], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    PATH: `${dirname(tools.nodeBin)}${delimiter}${process.env.PATH ?? ''}`,
    VERCEL_TELEMETRY_DISABLED: '1',
  },
});
child.on('error', (error) => {
  process.stderr.write(`vercel-cli: ${error.message}\n`);
  process.exit(1);
});
child.on('close', (code) => process.exit(code ?? 1));
