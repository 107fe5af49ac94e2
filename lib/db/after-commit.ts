import { log } from '../log.js';
import type { Tx } from './client.js';

/**
 * Work that must happen only once a transaction's changes are visible to everyone: e.g. sending the
 * email an outbox row describes. `afterCommit(tx, fn)` registers it; `transaction()` runs the
 * callbacks right after COMMIT (never after a rollback, and a retried transaction registers afresh).
 * Callbacks must not throw into the caller and should only start background work.
 */

const pending = new WeakMap<Tx, (() => void)[]>();

export function afterCommit(tx: Tx, fn: () => void): void {
  const list = pending.get(tx);
  if (list) list.push(fn);
  else pending.set(tx, [fn]);
}

/** Called by lib/db/client.ts after COMMIT. */
export function runAfterCommit(tx: Tx): void {
  const list = pending.get(tx);
  pending.delete(tx);
  for (const fn of list ?? []) {
    try {
      fn();
    } catch (error) {
      log.error('after-commit callback failed', { error });
    }
  }
}

/** Called by lib/db/client.ts on rollback: the callbacks never run. */
export function discardAfterCommit(tx: Tx): void {
  pending.delete(tx);
}
