import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The pinned Vercel CLI and the Node 22 it runs under (and the built functions run under, in the smoke and the
 * cold-start bench), installed on demand into a git-ignored cache. Used by build:vercel, smoke:vercel, vercel.
 */

export const VERCEL_CLI_VERSION = '58.10.0';
/** Node 22 used to run the CLI and (via smoke/bench) the built handlers; npm package node-<platform>-<arch>. */
export const NODE_RUNTIME_VERSION = '22.23.3';

/** The repository root (this file is scripts/lib/vercel-toolchain.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export class BuildFailure extends Error {
  override name = 'BuildFailure';
}

export interface VercelTools {
  /** Absolute path of the `vercel` CLI entry (run it with `nodeBin`). */
  vercelBin: string;
  /** Absolute path of a Node 22 binary. */
  nodeBin: string;
  cacheDir: string;
}

export function defaultCacheDir(root = REPO_ROOT): string {
  return process.env.VERCEL_BUILD_CACHE
    ? resolve(process.env.VERCEL_BUILD_CACHE)
    : join(root, 'node_modules', '.cache', 'vercel-build');
}

function installedVersion(prefix: string, pkg: string): string | undefined {
  const file = join(prefix, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function npmInstall(prefix: string, spec: string, log: (line: string) => void): void {
  mkdirSync(prefix, { recursive: true });
  // A package.json of its own so npm never walks up into the project's.
  if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), '{"private":true}\n');
  log(`build-vercel: installing ${spec} into ${prefix}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', spec],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (result.status !== 0) {
    const reason =
      `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').filter(Boolean).pop() ?? `exit ${result.status}`;
    throw new BuildFailure(`npm install ${spec} failed: ${reason}`);
  }
}

/**
 * The pinned CLI and a Node 22 binary, installed on demand into `cacheDir`. Reused when present.
 * With `install: false` it only looks and throws when something is missing.
 */
export function ensureVercelTools(
  opts: { cacheDir?: string; install?: boolean; log?: (line: string) => void } = {},
): VercelTools {
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const install = opts.install ?? true;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const cliPrefix = join(cacheDir, `vercel-${VERCEL_CLI_VERSION}`);
  if (installedVersion(cliPrefix, 'vercel') !== VERCEL_CLI_VERSION) {
    if (!install) throw new BuildFailure(`vercel@${VERCEL_CLI_VERSION} is not installed in ${cliPrefix}`);
    npmInstall(cliPrefix, `vercel@${VERCEL_CLI_VERSION}`, log);
  }
  const vercelBin = join(cliPrefix, 'node_modules', 'vercel', 'dist', 'vc.js');
  if (!existsSync(vercelBin)) throw new BuildFailure(`vercel CLI entry not found at ${vercelBin}`);

  return { vercelBin, nodeBin: ensureNode22({ cacheDir, install, log }), cacheDir };
}

/** A Node 22 binary: this process's own when it already is 22, else the npm-packaged one in the cache. */
export function ensureNode22(opts: { cacheDir?: string; install?: boolean; log?: (line: string) => void } = {}): string {
  if (process.versions.node.split('.')[0] === '22') return process.execPath;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const prefix = join(cacheDir, `node-${NODE_RUNTIME_VERSION}`);
  if (installedVersion(prefix, pkg) !== NODE_RUNTIME_VERSION) {
    if (opts.install === false) throw new BuildFailure(`Node ${NODE_RUNTIME_VERSION} is not installed in ${prefix}`);
    npmInstall(prefix, `${pkg}@${NODE_RUNTIME_VERSION}`, opts.log ?? ((line) => process.stderr.write(`${line}\n`)));
  }
  const bin = join(prefix, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(bin)) throw new BuildFailure(`Node binary not found at ${bin}`);
  return bin;
}
