/**
 * Hands work that runs after the response to Vercel's `waitUntil` (@vercel/functions), which keeps the
 * function alive until it settles; elsewhere (local server, tests) the work simply runs on.
 *
 * The module is imported once per instance, on first use, and the promise kept: an `import()` per call
 * costs a module resolution each time (under tsx, a message to its loader thread: 8.5 % of the
 * webhooks bench's CPU before this was kept).
 */
let vercelFunctions: Promise<typeof import('@vercel/functions') | undefined> | undefined;

export function handToWaitUntil(work: Promise<unknown>): void {
  vercelFunctions ??= import('@vercel/functions').catch(() => undefined);
  void vercelFunctions.then((module) => module?.waitUntil(work)).catch(() => undefined);
}
