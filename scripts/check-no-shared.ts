/**
 * CI check: nothing in the project reads the shared provider fixtures beside the clone (`../shared`), except the
 * script that refreshes the in-repo copies from it (scripts/sync-fixtures.ts). Tests, sandboxes, lib, api and the
 * other scripts read sandbox/fixtures (through sandbox/fixtures/index.ts), so a bare `git clone` passes `npm test`.
 *
 *   npm run check:no-shared [-- --root <dir>]   exit 1, naming file:line, when something else refers to it
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders that ship or run code (test and sandbox included), relative to the repository root. */
export const CHECKED_DIRS = ['api', 'lib', 'sandbox', 'scripts', 'test'] as const;
/** The only files allowed to name the shared folder: the sync script, and this check (its patterns). */
export const ALLOWED_FILES = ['scripts/sync-fixtures.ts', 'scripts/check-no-shared.ts'] as const;

const CODE_FILE = /\.(?:[cm]?[jt]s|tsx|json)$/;
/**
 * `../shared/...` (any number of `../`) as a path string, or the same spelt as path segments
 * (`'..', 'shared'` in a join/resolve call). `../shared.js` (a file called shared) is not it.
 */
const PATTERNS: readonly RegExp[] = [/\.\.[\\/]shared(?=[\\/'"`]|$)/, /['"`]\.\.['"`]\s*,\s*['"`]shared['"`]/];

export interface SharedRead {
  file: string;
  line: number;
  text: string;
}

function* walk(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else if (CODE_FILE.test(name)) yield full;
  }
}

/** Every line under `root`'s checked folders that refers to `../shared`, outside the allowed files. */
export function findSharedReads(root: string): SharedRead[] {
  const found: SharedRead[] = [];
  for (const dir of CHECKED_DIRS) {
    for (const file of walk(path.join(root, dir))) {
      const relative = path.relative(root, file).split(path.sep).join('/');
      if ((ALLOWED_FILES as readonly string[]).includes(relative)) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, index) => {
          if (PATTERNS.some((pattern) => pattern.test(text))) found.push({ file: relative, line: index + 1, text: text.trim() });
        });
    }
  }
  return found;
}

function main(): void {
  const rootFlag = process.argv.indexOf('--root');
  const root = rootFlag > 0 ? path.resolve(process.argv[rootFlag + 1] ?? '.') : path.resolve(import.meta.dirname, '..');
  const found = findSharedReads(root);
  if (found.length > 0) {
    console.error(
      `check-no-shared: ${found.length} place(s) read ../shared; read sandbox/fixtures instead (npm run fixtures:sync refreshes it):`,
    );
    for (const { file, line, text } of found) console.error(`  ${file}:${line}: ${text}`);
    process.exit(1);
  }
  console.log(`check-no-shared: nothing in ${CHECKED_DIRS.join(', ')} reads ../shared (only ${ALLOWED_FILES[0]} may)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
