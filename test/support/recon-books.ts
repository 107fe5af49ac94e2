import { closeSync, mkdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

/** Bulk books for reconciliation tests (shared with the reconcile benchmark). */
export { type BookCapture, type BookRefund, type SeededBooks, seedBooks } from '../../scripts/lib/recon-books.js';

/** The folder where one test run's days are claimed (removed by the global teardown). */
export function dayClaimsDir(databaseUrl: string): string {
  return join(tmpdir(), `bf-days-${new URL(databaseUrl).pathname.slice(1)}`);
}

/**
 * A UTC day (2015 to 2023) that no other test of this run has taken. A reconciliation run belongs to a
 * provider and a day, so two tests on one day meet each other's run and books (a completed run is
 * returned as it is). A random pick alone collided now and then; each day is therefore claimed as a
 * file created with O_EXCL, which holds across the parallel test files of one run.
 */
export function isolatedDay(): string {
  const dir = dayClaimsDir(inject('databaseUrl'));
  mkdirSync(dir, { recursive: true });
  for (;;) {
    const day = new Date(Date.UTC(2015, 0, 1) + Math.floor(Math.random() * 3_000) * 86_400_000).toISOString().slice(0, 10);
    try {
      closeSync(openSync(join(dir, day), 'wx'));
      return day;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
