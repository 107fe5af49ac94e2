import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run docs:check`: the docs under docs/payment-system/ name only things that exist.
 * - every relative link resolves to a file, and its #anchor to a heading of that file;
 * - every `/api/...` path is a route in api/ (and `GET /api/x`-style mentions use a method the route answers);
 * - every `npm run <script>` is a script in package.json;
 * - every UPPER_CASE name in backticks is an environment variable of .env.example, an error code, or a
 *   constant exported from lib/;
 * - every ```sql block parses and plans against a migrated database (test/contract/docs.test.ts passes an
 *   `explain` function; the CLI has no database and skips this).
 * Exit code 1 with one line per problem.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface DocProblem {
  file: string;
  line: number;
  problem: string;
}

export interface CheckOptions {
  root?: string;
  docsDir?: string;
  /** Plans one SQL statement (EXPLAIN); throws when it does not parse or names what does not exist. */
  explain?: (sql: string) => Promise<void>;
}

function walk(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return walk(full, ext);
    return entry.name.endsWith(ext) ? [full] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces → hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!match?.[1]) continue;
    const slug = headingSlug(match[1]);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** api/ files → URL path patterns with the methods each answers (from the route files' handlers). */
function apiRoutes(root: string): { pattern: RegExp; path: string; file: string }[] {
  return walk(join(root, 'api'), '.ts').map((full) => {
    const file = relative(root, full);
    let path = `/${file.replace(/\.ts$/, '').replace(/\/index$/, '')}`;
    if (path === '/api/openapi') path = '/api/openapi.json';
    const pattern = new RegExp(`^${path.replace(/\./g, '\\.').replace(/\[[^\]]+\]/g, '[^/]+')}$`);
    return { pattern, path: path.replace(/\[([^\]]+)\]/g, '{$1}'), file };
  });
}

/** The methods a route file answers: the keys its defineRoute call is given (`GET: async`, `POST: async`). */
function methodsOf(root: string, file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  return METHODS.filter((method) => new RegExp(`\\b${method}:\\s*async`).test(source));
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

export async function checkDocs(options: CheckOptions = {}): Promise<DocProblem[]> {
  const root = options.root ?? ROOT;
  const docsDir = options.docsDir ?? join(root, 'docs', 'payment-system');
  const problems: DocProblem[] = [];
  const files = walk(docsDir, '.md');
  if (files.length === 0) problems.push({ file: relative(root, docsDir), line: 0, problem: 'no Markdown files' });
  const scripts = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts);
  const routes = apiRoutes(root);
  const envVars = new Set(
    [...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string),
  );
  const errorsSource = readFileSync(join(root, 'lib', 'errors.ts'), 'utf8');
  const errorCodes = new Set([...errorsSource.matchAll(/^\s+'([A-Z_]+)',$/gm)].map((m) => m[1] as string));
  const constants = new Set(
    walk(join(root, 'lib'), '.ts').flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/export const ([A-Z][A-Z0-9_]+)\b/g)].map((m) => m[1] as string),
    ),
  );

  for (const full of files) {
    const file = relative(root, full);
    const text = readFileSync(full, 'utf8');
    const report = (index: number, problem: string) => problems.push({ file, line: lineOf(text, index), problem });

    // Links: [text](target) — relative ones must resolve; anchors must exist.
    for (const match of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = match[1] as string;
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [pathPart, anchor] = target.split('#') as [string, string | undefined];
      const resolved = pathPart === '' ? full : resolve(dirname(full), pathPart);
      if (!existsSync(resolved)) {
        report(match.index, `broken link: ${target} (no file ${relative(root, resolved)})`);
        continue;
      }
      if (
        anchor &&
        statSync(resolved).isFile() &&
        resolved.endsWith('.md') &&
        !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)
      ) {
        report(match.index, `broken link: ${target} (no heading #${anchor} in ${relative(root, resolved)})`);
      }
    }

    // Routes: /api/... (with an optional method before it).
    for (const match of text.matchAll(/(?:\b(GET|POST|PUT|PATCH|DELETE)\s+)?(\/api\/[A-Za-z0-9_\-/{}<>:.]*[A-Za-z0-9_\-}>])/g)) {
      const method = match[1];
      const raw = (match[2] as string).replace(/\/$/, '');
      const path = raw.replace(/\{[^}]+\}|<[^>]+>|:[a-z]+/g, 'x');
      const route = routes.find((r) => r.pattern.test(path));
      if (!route) {
        report(match.index, `route ${raw} does not exist in api/`);
        continue;
      }
      if (method && !methodsOf(root, route.file).includes(method)) {
        report(match.index, `${method} ${raw}: ${route.file} does not answer ${method}`);
      }
    }

    // npm scripts.
    for (const match of text.matchAll(/\bnpm run ([a-z0-9:_-]+)/g)) {
      if (!scripts.includes(match[1] as string)) report(match.index, `npm script "${match[1]}" is not in package.json`);
    }

    // Names in backticks: environment variables, error codes, lib constants.
    for (const match of text.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`/g)) {
      const name = match[1] as string;
      if (!envVars.has(name) && !errorCodes.has(name) && !constants.has(name)) {
        report(match.index, `${name} is neither an environment variable (.env.example), an error code nor a lib/ constant`);
      }
    }

    // SQL blocks.
    if (options.explain) {
      for (const match of text.matchAll(/```sql\n([\s\S]*?)```/g)) {
        for (const statement of (match[1] as string)
          .split(/;\s*(?:\n|$)/)
          .map((s) => s.trim())
          .filter(Boolean)) {
          try {
            await options.explain(statement);
          } catch (error) {
            report(match.index, `SQL does not run: ${(error as Error).message} — ${statement.split('\n')[0]}`);
          }
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = await checkDocs();
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.problem}`);
  if (problems.length > 0) {
    console.error(`docs check: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log('docs check: every link, route, npm script and name in docs/payment-system/ exists');
}
