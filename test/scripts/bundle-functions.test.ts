import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleFailure, bundleFunction, bundleFunctionOutput } from '../../scripts/bundle-functions.js';

/**
 * Hand-written `.func` folders shaped like `vercel build`'s (compiled handler + lib/ + traced node_modules with
 * the real zod package and a CommonJS package), bundled, then run in a fresh Node process from the folder alone.
 */

const REPO = resolve(import.meta.dirname, '..', '..');
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function write(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

const HANDLER = `
import { z } from 'zod';
import { shout } from '../lib/shout.js';
import cjs from 'fake-cjs';
const Query = z.object({ name: z.string().min(1) });
export async function GET(request) {
  const parsed = Query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0].path.join('.') }, { status: 400 });
  const { later } = await import('../lib/later.js');
  return Response.json({ greeting: shout(parsed.data.name), later: later(), cjs: cjs.answer(), loadedAs: cjs.loadedAs });
}
`;

/** A .func folder with api/hello.js as handler; returns its path. */
function writeFunc(parent: string, name = 'hello', handler = HANDLER): string {
  const dir = join(parent, `${name}.func`);
  write(join(dir, 'package.json'), '{"type":"module"}\n');
  write(
    join(dir, '.vc-config.json'),
    JSON.stringify({ handler: 'api/hello.js', runtime: 'nodejs22.x', launcherType: 'Nodejs', memory: 1024 }),
  );
  write(join(dir, 'api', 'hello.js'), handler);
  write(join(dir, 'api', 'hello.js.map'), '{"version":3,"sources":[],"mappings":""}');
  write(join(dir, 'lib', 'shout.js'), "export const shout = (s) => s.toUpperCase() + '!';\n");
  write(join(dir, 'lib', 'later.js'), "export const later = () => 'loaded on first use';\n");
  write(join(dir, 'migrations', '0001_x.sql'), 'SELECT 1;\n');
  cpSync(join(REPO, 'node_modules', 'zod'), join(dir, 'node_modules', 'zod'), { recursive: true });
  write(join(dir, 'node_modules', 'fake-cjs', 'package.json'), '{"name":"fake-cjs","main":"index.js"}\n');
  write(
    join(dir, 'node_modules', 'fake-cjs', 'index.js'),
    "'use strict';\nmodule.exports = { answer: () => 42, loadedAs: typeof require === 'function' ? 'cjs' : 'esm' };\n",
  );
  return dir;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-test-'));
  temps.push(dir);
  return dir;
}

/** Imports the bundled handler in a fresh Node process run from a copy of the folder alone. */
function callAlone(funcDir: string, query: string): { status: number; body: Record<string, unknown> } {
  const copy = join(tempDir(), 'task');
  cpSync(funcDir, copy, { recursive: true });
  const handler = (JSON.parse(readFileSync(join(copy, '.vc-config.json'), 'utf8')) as { handler: string }).handler;
  const script = `const m = await import(${JSON.stringify(pathToFileURL(join(copy, handler)).href)});
const r = await m.GET(new Request('http://localhost/api/hello${query}'));
process.stdout.write(JSON.stringify({ status: r.status, body: await r.json() }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: copy, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`handler failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { status: number; body: Record<string, unknown> };
}

describe('bundleFunction', () => {
  it('bundles our code and zod into one module, keeps CommonJS packages traced, and the folder alone still answers', async () => {
    const dir = writeFunc(tempDir());
    const before = callAlone(dir, '?name=fest');

    const result = await bundleFunction('api/hello', dir);

    expect(result.handler).toBe('api/hello.bundle.mjs');
    const config = JSON.parse(readFileSync(join(dir, '.vc-config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ handler: 'api/hello.bundle.mjs', runtime: 'nodejs22.x', memory: 1024 });
    // What the bundle holds is gone from the folder; what it does not (SQL, CommonJS packages) stays.
    expect(existsSync(join(dir, 'api', 'hello.js'))).toBe(false);
    expect(existsSync(join(dir, 'api', 'hello.js.map'))).toBe(false);
    expect(existsSync(join(dir, 'lib'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'zod'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'fake-cjs', 'index.js'))).toBe(true);
    expect(existsSync(join(dir, 'migrations', '0001_x.sql'))).toBe(true);
    // The lazy import stayed lazy: a chunk of its own.
    const chunks = readdirSync(join(dir, 'api', '_chunks'));
    expect(chunks.some((f) => f.startsWith('later-') && f.endsWith('.mjs'))).toBe(true);
    expect(readFileSync(join(dir, 'api', 'hello.bundle.mjs'), 'utf8')).not.toContain('loaded on first use');

    const after = callAlone(dir, '?name=fest');
    expect(after).toEqual(before);
    expect(after.body).toEqual({ greeting: 'FEST!', later: 'loaded on first use', cjs: 42, loadedAs: 'cjs' });
    // zod still validates inside the bundle.
    expect(callAlone(dir, '')).toEqual({ status: 400, body: { error: 'name' } });
  });

  it('keeps an inlined package that another traced package still depends on', async () => {
    // The handler loads uses-zod (CommonJS, require('zod')): after bundling, the folder alone must still
    // resolve zod from node_modules for it, while the handler's own zod is inlined.
    const handler = `
import { z } from 'zod';
import usesZod from 'uses-zod';
export async function GET(request) {
  const name = new URL(request.url).searchParams.get('name') ?? '';
  return Response.json({ inlined: z.string().min(1).safeParse(name).success, viaUsesZod: usesZod.isName(name) });
}
`;
    const dir = writeFunc(tempDir(), 'hello', handler);
    write(
      join(dir, 'node_modules', 'uses-zod', 'package.json'),
      '{"name":"uses-zod","main":"index.js","dependencies":{"zod":"^4"}}\n',
    );
    write(
      join(dir, 'node_modules', 'uses-zod', 'index.js'),
      "'use strict';\nconst { z } = require('zod');\nmodule.exports = { isName: (s) => z.string().min(1).safeParse(s).success };\n",
    );
    expect(callAlone(dir, '?name=a')).toEqual({ status: 200, body: { inlined: true, viaUsesZod: true } });

    await bundleFunction('api/hello', dir);

    expect(existsSync(join(dir, 'node_modules', 'zod', 'package.json'))).toBe(true);
    expect(callAlone(dir, '?name=a')).toEqual({ status: 200, body: { inlined: true, viaUsesZod: true } });
    expect(callAlone(dir, '?name=')).toEqual({ status: 200, body: { inlined: false, viaUsesZod: false } });
  });

  it('deletes only the files esbuild took in (and their maps): other .js files outside node_modules stay', async () => {
    const dir = writeFunc(tempDir());
    // As vercel.json includeFiles would bring them: not imported by the handler.
    write(join(dir, 'scripts', 'extra.js'), 'export const extra = 1;\n');
    write(join(dir, 'scripts', 'extra.js.map'), '{"version":3,"sources":[],"mappings":""}');
    write(join(dir, 'lib', 'unused.js'), 'export const unused = 1;\n');
    write(join(dir, 'lib', 'shout.js.map'), '{"version":3,"sources":[],"mappings":""}');

    const result = await bundleFunction('api/hello', dir);

    expect(existsSync(join(dir, 'scripts', 'extra.js'))).toBe(true);
    expect(existsSync(join(dir, 'scripts', 'extra.js.map'))).toBe(true);
    expect(existsSync(join(dir, 'lib', 'unused.js'))).toBe(true);
    expect(existsSync(join(dir, 'lib', 'shout.js'))).toBe(false);
    expect(existsSync(join(dir, 'lib', 'shout.js.map'))).toBe(false);
    expect(existsSync(join(dir, 'lib', 'later.js'))).toBe(false);
    expect(result.removed.sort()).toEqual(
      ['api/hello.js', 'api/hello.js.map', 'lib/later.js', 'lib/shout.js', 'lib/shout.js.map', 'node_modules/zod/'].sort(),
    );
    expect(callAlone(dir, '?name=fest').body.greeting).toBe('FEST!');
  });

  it('fails naming the function, the warning and where on an import() esbuild cannot follow, and leaves the folder as it was', async () => {
    const handler = `
export async function GET(request) {
  const name = new URL(request.url).searchParams.get('lib');
  const { later } = await import(name);
  return Response.json({ later: later() });
}
`;
    const dir = writeFunc(tempDir(), 'hello', handler);
    const config = readFileSync(join(dir, '.vc-config.json'), 'utf8');

    const failure = await bundleFunction('api/hello', dir).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(BundleFailure);
    expect((failure as Error).message).toMatch(
      /^api\/hello: esbuild warning: This "import" expression will not be bundled because the argument is not a string literal \[unsupported-dynamic-import\] \(api\/hello\.js:4:\d+\)$/,
    );
    expect(readFileSync(join(dir, '.vc-config.json'), 'utf8')).toBe(config);
    expect(existsSync(join(dir, 'api', 'hello.js'))).toBe(true);
    expect(existsSync(join(dir, 'lib', 'later.js'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules', 'zod'))).toBe(true);
    expect(existsSync(join(dir, 'api', 'hello.bundle.mjs'))).toBe(false);
    expect(existsSync(join(dir, 'api', '_chunks'))).toBe(false);
  });

  it('also fails on a require() esbuild cannot follow', async () => {
    // As in a handler compiled to CommonJS: a free require() call with a computed argument.
    const handler = `export async function GET(request) {
  const m = new URL(request.url).searchParams.get('m');
  return Response.json(require(m));
}
`;
    const dir = writeFunc(tempDir(), 'hello', handler);
    await expect(bundleFunction('api/hello', dir)).rejects.toThrow(
      /^api\/hello: esbuild warning: .*\[unsupported-require-call\] \(api\/hello\.js:3:/,
    );
  });

  it('lets an allow-listed warning through', async () => {
    const handler = `export async function GET() { const m = 'node:os'; return Response.json({ os: typeof (await import(m)).platform }); }\n`;
    const dir = writeFunc(tempDir(), 'hello', handler);

    await expect(
      bundleFunction('api/hello', dir, {
        allowedWarnings: [{ id: 'unsupported-dynamic-import', file: /^lib\//, why: 'not this file' }],
      }),
    ).rejects.toThrow(/unsupported-dynamic-import/);
    const result = await bundleFunction('api/hello', dir, {
      allowedWarnings: [{ id: 'unsupported-dynamic-import', file: /^api\/hello\.js$/, why: 'a builtin, resolved by Node' }],
    });

    expect(result.handler).toBe('api/hello.bundle.mjs');
    expect(callAlone(dir, '')).toEqual({ status: 200, body: { os: 'function' } });
  });

  it('refuses to inline a package that has dependencies of its own, and leaves the folder as it was', async () => {
    const dir = writeFunc(tempDir());
    const manifest = join(dir, 'node_modules', 'zod', 'package.json');
    writeFileSync(
      manifest,
      JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), dependencies: { 'left-pad': '^1' } }),
    );
    const config = readFileSync(join(dir, '.vc-config.json'), 'utf8');

    const failure = await bundleFunction('api/hello', dir).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(BundleFailure);
    expect((failure as Error).message).toMatch(/^api\/hello: cannot inline zod: .*\(left-pad\).*drop zod from INLINE_PACKAGES/);
    expect(readFileSync(join(dir, '.vc-config.json'), 'utf8')).toBe(config);
    expect(existsSync(join(dir, 'api', 'hello.js'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules', 'zod', 'package.json'))).toBe(true);
  });

  it('fails when the bundle imports a package the folder does not hold', async () => {
    const handler = `import gone from 'not-traced';\nexport const GET = () => Response.json(gone);\n`;
    const dir = writeFunc(tempDir(), 'hello', handler);

    await expect(bundleFunction('api/hello', dir)).rejects.toThrow(
      /^api\/hello: api\/hello\.bundle\.mjs imports not-traced, but not-traced is not in the function's node_modules$/,
    );
    expect(existsSync(join(dir, 'api', 'hello.js'))).toBe(true);
  });

  it('fails naming the function when an import does not resolve, and leaves the folder as it was', async () => {
    const dir = writeFunc(tempDir(), 'hello', `import { gone } from '../lib/gone.js';\nexport const GET = () => gone();\n`);
    const config = readFileSync(join(dir, '.vc-config.json'), 'utf8');

    const failure = await bundleFunction('api/hello', dir).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(BundleFailure);
    expect((failure as Error).message).toMatch(/^api\/hello: .*lib\/gone\.js/);
    expect(readFileSync(join(dir, '.vc-config.json'), 'utf8')).toBe(config);
    expect(existsSync(join(dir, 'api', 'hello.js'))).toBe(true);
  });

  it('refuses to bundle twice', async () => {
    const dir = writeFunc(tempDir());
    await bundleFunction('api/hello', dir);
    await expect(bundleFunction('api/hello', dir)).rejects.toThrow(/already bundled/);
  });
});

describe('bundleFunctionOutput', () => {
  it('bundles folders the CLI symlinked to one another once', async () => {
    const parent = tempDir();
    const dir = writeFunc(parent, 'one');
    symlinkSync(dir, join(parent, 'two.func'));
    const lines: string[] = [];

    const results = await bundleFunctionOutput(
      [
        { route: 'api/one', dir },
        { route: 'api/two', dir: join(parent, 'two.func') },
      ],
      (line) => lines.push(line),
    );

    expect(results.map((r) => [r.route, r.handler])).toEqual([
      ['api/one', 'api/hello.bundle.mjs'],
      ['api/two', 'api/hello.bundle.mjs'],
    ]);
    expect(lines).toHaveLength(1);
    expect(callAlone(join(parent, 'two.func'), '?name=x').body.greeting).toBe('X!');
  });
});
