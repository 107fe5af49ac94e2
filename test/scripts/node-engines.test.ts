import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { getLatestNodeVersion, getSupportedNodeVersion } from '@vercel/build-utils';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_JSON, EXPECTED_RUNTIME } from '../../scripts/build-vercel.js';
import { NODE_RUNTIME_VERSION } from '../../scripts/lib/vercel-toolchain.js';

/**
 * One Node version story: `engines` lets a developer run Node 20.19+ or 22 locally (what the README says), and the
 * same field makes Vercel build and run Node 22 (what build:vercel checks), without a warning that fails the build.
 * Vercel's choice is made here by its own function (@vercel/build-utils, the one its builder calls).
 */

// semver (untyped here; the one npm and @vercel/build-utils use) for the checks that npm and Vercel make themselves.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  intersects(a: string, b: string): boolean;
  coerce(version: string): { raw: string } | null;
};

const root = process.cwd();
const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

describe('package.json engines', () => {
  it('allows the Node versions the README promises for local work, and no older', () => {
    for (const version of ['20.19.0', '20.20.2', '22.0.0', NODE_RUNTIME_VERSION])
      expect(semver.satisfies(version, engines), version).toBe(true);
    for (const version of ['20.18.3', '18.20.0', '19.9.0']) expect(semver.satisfies(version, engines), version).toBe(false);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`\`${engines}\``);
  });

  it('makes Vercel select Node 22 (the runtime build:vercel expects), with none of the warnings that fail the build', async () => {
    const selected = await getSupportedNodeVersion(engines, false);
    expect(selected.runtime).toBe(EXPECTED_RUNTIME);
    // "Due to engines ... Project Settings will not apply": the project's nodeVersion must agree.
    expect(semver.intersects(DEFAULT_PROJECT_JSON.settings.nodeVersion, selected.range)).toBe(true);
    // "will automatically upgrade when a new major Node.js Version is released": an open-ended range.
    expect(semver.intersects(`${getLatestNodeVersion().major + 1}.x`, engines)).toBe(false);
    // "with major.minor.patch, but only major Node.js Version can be selected".
    expect(semver.coerce(engines)?.raw).not.toBe(engines);
  });
});
