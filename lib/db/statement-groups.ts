import { getConfig } from '../config.js';

/**
 * Group commit for one hot statement (issue 17, webhook settlement in a flash sale): calls that arrive
 * while earlier ones are still in the database share the next statement instead of each paying a
 * statement of their own. Most of a webhook completion's database time is per statement, not per row
 * (plan revalidation and executor start-up over six tables and their indexes, each CHECK constraint
 * compiled again, the commit, the network): a `perf` profile of PostgreSQL 17 under the webhooks bench put
 * executor start-up alone at 15 %.
 *
 * - At most `maxInFlight` statements run at once. A call that finds a free slot runs at once, alone: with
 *   little traffic nothing waits and nothing changes. Calls that find every slot taken queue, and the next
 *   free slot takes up to `maxGroup` of them in one statement.
 * - Calls whose keys meet in a group (`keysOf`: the same provider event, the same order) never share
 *   one: the later one waits for the next group, so one statement never touches a row twice.
 * - A group's statement is all or nothing. When it fails, each call of the group runs again alone (first in
 *   the queue, within the same limit of statements at once), so a call fails only on its own error (a
 *   deadlock or a constraint of one row never fails its neighbours).
 * - Each caller gets its own outcome, in its own promise; nothing is shared but the statement.
 * - The price: a group answers when its whole statement is done, so a call waits for its neighbours' rows
 *   too (a row lock held elsewhere, say by a refund of one of the orders, holds up the whole group).
 */
export interface StatementGroups<I, O> {
  run(input: I): Promise<O>;
}

export interface StatementGroupOptions<I, O> {
  /** Statements running at once (at least 1). */
  maxInFlight: () => number;
  /** Calls in one statement (at least 1). */
  maxGroup: number;
  /** Calls that share a key never share a statement. */
  keysOf: (input: I) => readonly string[];
  /** Calls that may share a statement have equal `groupOf` (the statement's own parameters). */
  groupOf: (input: I) => string;
  /** One statement for the group; one outcome per input, in the same order. */
  runGroup: (inputs: readonly I[]) => Promise<O[]>;
}

interface Waiting<I, O> {
  input: I;
  /** `groupOf` and `keysOf`, asked once when the call arrives. */
  group: string;
  keys: readonly string[];
  /** Back from a failed group: runs in a statement of its own. */
  alone: boolean;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export function statementGroups<I, O>(options: StatementGroupOptions<I, O>): StatementGroups<I, O> {
  const queue: Waiting<I, O>[] = [];
  let inFlight = 0;

  /** Takes the next group off the queue: same statement parameters, no key twice, oldest first. */
  const takeGroup = (): Waiting<I, O>[] => {
    const head = queue[0];
    if (!head) return [];
    if (head.alone) return queue.splice(0, 1);
    const keys = new Set<string>();
    const taken: Waiting<I, O>[] = [];
    for (let index = 0; index < queue.length && taken.length < options.maxGroup; ) {
      const waiting = queue[index] as Waiting<I, O>;
      if (waiting.alone || waiting.group !== head.group || waiting.keys.some((key) => keys.has(key))) {
        index += 1;
        continue;
      }
      for (const key of waiting.keys) keys.add(key);
      taken.push(waiting);
      queue.splice(index, 1);
    }
    return taken;
  };

  const pump = (): void => {
    while (inFlight < Math.max(1, options.maxInFlight()) && queue.length > 0) {
      const group = takeGroup();
      inFlight += 1;
      void runTaken(group).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  };

  const runTaken = async (group: Waiting<I, O>[]): Promise<void> => {
    let outputs: O[];
    try {
      outputs = await options.runGroup(group.map((waiting) => waiting.input));
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Waiting<I, O>).reject(error);
        return;
      }
      // All or nothing: nothing of the group was written. Each call again, in a statement of its own, at the
      // head of the queue and within the same limit of statements at once (never a burst of retries).
      queue.unshift(...group.map((waiting) => ({ ...waiting, alone: true })));
      return;
    }
    for (const [index, waiting] of group.entries()) waiting.resolve(outputs[index] as O);
  };

  return {
    run(input: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ input, group: options.groupOf(input), keys: options.keysOf(input), alone: false, resolve, reject });
        pump();
      });
    },
  };
}

/**
 * The usual limit of shared statements running at once: half the pool's connections, capped at `cap`, so
 * the other half stays free for everything else (at least 1).
 */
export function halfThePool(cap = Number.POSITIVE_INFINITY): number {
  return Math.max(1, Math.min(cap, Math.floor(getConfig().database.poolMax / 2)));
}
