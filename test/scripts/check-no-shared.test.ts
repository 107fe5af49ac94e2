import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSharedReads } from '../../scripts/check-no-shared.js';

// Spelt in pieces so that this file does not itself trip the check.
const UP = '..';
const SHARED = 'shared';

const scratch = mkdtempSync(join(tmpdir(), 'bf-no-shared-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(scratch, 'tree-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

describe('scripts/check-no-shared.ts', () => {
  it('finds nothing in this repository', () => {
    expect(findSharedReads(process.cwd())).toEqual([]);
  });

  it('names every test, sandbox, lib, api or script file that reads the shared folder, and only those', () => {
    const root = tree({
      'test/a.test.ts': `const f = readFileSync(join(process.cwd(), '${UP}', '${SHARED}', 'fixtures', 'x.json'));\n`,
      'sandbox/b.ts': `\nconst dir = path.resolve(here, '${UP}/${UP}/${UP}/${SHARED}/fixtures');\n`,
      'lib/c.ts': `import x from "${UP}/${UP}/${SHARED}/hooks/y.js";\n`,
      'api/d.ts': 'export const ok = 1;\n',
      'scripts/sync-fixtures.ts': `const allowed = '${UP}/${SHARED}/fixtures';\n`,
      'scripts/e.ts': `import { x } from '${UP}/${UP}/${SHARED}.js'; // a file called shared: fine\n`,
      'docs/f.ts': `const elsewhere = '${UP}/${SHARED}/fixtures';\n`,
    });
    expect(findSharedReads(root).map((r) => `${r.file}:${r.line}`)).toEqual(['lib/c.ts:1', 'sandbox/b.ts:2', 'test/a.test.ts:1']);
  });

  it('exits 1 naming the file from the command line, 0 on a clean tree', () => {
    const dirty = tree({ 'test/a.ts': `const p = '${UP}/${SHARED}/fixtures/stripe/fixtures3.json';\n` });
    const clean = tree({ 'test/a.ts': `const p = 'sandbox/fixtures/stripe-objects.json';\n` });
    const run = (root: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-no-shared.ts', '--root', root], { encoding: 'utf8' });
    const failed = run(dirty);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('test/a.ts:1');
    const passed = run(clean);
    expect(passed.status).toBe(0);
  });
});
