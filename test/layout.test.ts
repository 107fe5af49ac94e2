import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The test tree mirrors lib/ (ARCHITECTURE.md, "Where a test goes"): the tests of lib/<room>/ are in test/<room>/,
 * a route's test in the room of the lib/ function the route calls, a top-level lib/<name>.ts's test at
 * test/<name>.test.ts. Besides the rooms only these folders may exist, each the mirror of a top-level folder.
 */
const OTHER_TEST_FOLDERS: Readonly<Record<string, string | null>> = {
  browser: 'web', // the pages, driven in chromium
  sandbox: 'sandbox',
  scripts: 'scripts',
  support: null, // helpers the tests share
};

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function hasFiles(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some((e) => e.isFile() || (e.isDirectory() && hasFiles(join(dir, e.name))));
}

/** What breaks the rule, one line each; empty when the tree keeps it. */
function layoutProblems(root: string): string[] {
  const lib = readdirSync(join(root, 'lib'), { withFileTypes: true });
  const rooms = new Set(lib.filter((e) => e.isDirectory()).map((e) => e.name));
  const libFiles = new Set(lib.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name.slice(0, -3)));
  const problems: string[] = [];
  for (const entry of readdirSync(join(root, 'test'), { withFileTypes: true })) {
    const name = entry.name;
    if (entry.isDirectory()) {
      if (rooms.has(name) || name in OTHER_TEST_FOLDERS || !hasFiles(join(root, 'test', name))) continue;
      problems.push(`test/${name}/ matches no lib/ room and is not one of ${Object.keys(OTHER_TEST_FOLDERS).join(', ')}`);
    } else if (name !== 'layout.test.ts' && !libFiles.has(name.replace(/\.test\.ts$/, ''))) {
      problems.push(`test/${name}: a file at the top of test/ must be the test of lib/<name>.ts (test/<name>.test.ts)`);
    }
  }
  return problems.sort();
}

describe('the test tree mirrors lib/', () => {
  it('has no folder that is neither a lib/ room nor a mirrored top-level folder', () => {
    expect(layoutProblems(ROOT)).toEqual([]);
  });

  it('allows besides the rooms only folders that mirror a top-level folder (and support/)', () => {
    const top = readdirSync(ROOT);
    for (const [folder, mirrors] of Object.entries(OTHER_TEST_FOLDERS)) {
      if (mirrors) expect(top, `test/${folder}/ mirrors ${mirrors}/`).toContain(mirrors);
    }
  });

  it('reports a drifted folder and a stray top-level test (a scratch tree)', () => {
    const root = mkdtempSync(join(tmpdir(), 'bf-layout-'));
    for (const dir of ['lib/refunds', 'test/refunds', 'test/backoffice', 'test/support', 'test/empty']) {
      mkdirSync(join(root, dir), { recursive: true });
    }
    writeFileSync(join(root, 'lib/money.ts'), '');
    for (const file of ['test/refunds/a.test.ts', 'test/backoffice/b.test.ts', 'test/money.test.ts', 'test/misc.test.ts']) {
      writeFileSync(join(root, file), '');
    }
    try {
      expect(layoutProblems(root)).toEqual([
        expect.stringMatching(/^test\/backoffice\/ matches no lib\/ room/),
        expect.stringMatching(/^test\/misc\.test\.ts: /),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
