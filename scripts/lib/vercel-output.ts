import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Reading a `.vercel/output` tree: what the build (scripts/build-vercel.ts), the smoke (scripts/smoke/) and the
 * cold-start bench share. Nothing here runs anything.
 */

/** Every `*.func` folder under `<outputDir>/functions`, as [route, absolute dir] ("api/orders/[id]"). */
export function listFunctionDirs(outputDir: string): Array<{ route: string; dir: string }> {
  const base = join(outputDir, 'functions');
  const found: Array<{ route: string; dir: string }> = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir).sort()) {
      const abs = join(dir, entry);
      // statSync follows symlinks: the CLI links identical functions to one folder.
      if (!statSync(abs).isDirectory()) continue;
      if (entry.endsWith('.func')) {
        found.push({ route: relative(base, abs).slice(0, -'.func'.length).split(sep).join('/'), dir: abs });
      } else {
        walk(abs);
      }
    }
  };
  walk(base);
  return found;
}

export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(abs);
    else total += statSync(abs).size;
  }
  return total;
}

export interface StaticCheckResult {
  ok: boolean;
  publicMissing: boolean;
  /** Paths (relative, `/`-separated) in static output that are not files under public/. */
  extraneous: string[];
  problems: string[];
}

function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && statSync(abs).isDirectory())) out.push(...listFiles(abs, base));
    else out.push(relative(base, abs).split(sep).join('/'));
  }
  return out.sort();
}

/**
 * `.vercel/output/static` may only hold files that exist under public/ — with public/ Vercel serves just
 * that; without it the whole repo root. A missing (or, in git terms, empty) public/ fails.
 */
export function checkStaticOutput(outputDir: string, publicDir: string): StaticCheckResult {
  const problems: string[] = [];
  const publicMissing = !existsSync(publicDir) || !statSync(publicDir).isDirectory();
  if (publicMissing) {
    problems.push(`public/ is missing (${publicDir}): Vercel would serve the whole repo root as static files`);
  } else if (listFiles(publicDir).length === 0) {
    problems.push(
      `public/ has no files (${publicDir}): git keeps no empty folder, so a clone has no public/ and Vercel serves the repo root`,
    );
  }
  const staticFiles = listFiles(join(outputDir, 'static'));
  const extraneous = staticFiles.filter((file) => {
    if (publicMissing) return true;
    const inPublic = join(publicDir, ...file.split('/'));
    return !existsSync(inPublic) || !statSync(inPublic).isFile();
  });
  if (extraneous.length > 0) {
    const shown = extraneous.slice(0, 20).join(', ');
    problems.push(
      `static output has ${extraneous.length} path(s) not under public/: ${shown}${extraneous.length > 20 ? ', ...' : ''}`,
    );
  }
  return { ok: problems.length === 0, publicMissing, extraneous, problems };
}

export interface FunctionInfo {
  route: string;
  dir: string;
  config: { handler?: string; runtime?: string; filePathMap?: Record<string, string>; [key: string]: unknown };
}

export function listFunctions(outputDir: string): FunctionInfo[] {
  return listFunctionDirs(outputDir).map(({ route, dir }) => {
    const configFile = join(dir, '.vc-config.json');
    const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as FunctionInfo['config']) : {};
    return { route, dir, config };
  });
}

/**
 * Copies one .func folder to a fresh temp dir (dereferencing the CLI's symlinks) and materialises a
 * `filePathMap` (files a non-standalone build leaves in the repo) from `root`, as a deploy uploads them.
 */
export function copyFunction(fn: FunctionInfo, root: string, parentTemp?: string): string {
  const temp = mkdtempSync(join(parentTemp ?? tmpdir(), 'vercel-func-'));
  const dest = join(temp, 'task');
  cpSync(fn.dir, dest, { recursive: true, dereference: true });
  for (const [inFunc, inRepo] of Object.entries(fn.config.filePathMap ?? {})) {
    const target = join(dest, inFunc);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(root, inRepo), target, { dereference: true });
  }
  return dest;
}
