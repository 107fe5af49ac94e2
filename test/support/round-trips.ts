import pg from 'pg';

/**
 * Counts the database round trips this test process makes: every statement a node-postgres client
 * sends (BEGIN, COMMIT and each query; a parameterised query is one round trip: parse, bind, execute
 * and sync go out together). It wraps `pg.Client.prototype.query`, which the app's pool (lib/db/drivers/pg.ts)
 * uses for every statement, so nothing in lib/ knows it is being counted.
 *
 *   const trips = startCountingRoundTrips();
 *   const answer = await call(POST, { ... });
 *   trips.stop();
 *   expect(trips.count()).toBeLessThanOrEqual(3);
 *
 * `mark(label)` records a point in the sequence (e.g. when the provider sandbox receives the call), so a test
 * can count what happened before and after it: `trips.countBefore('provider')`, `trips.countAfter('provider')`.
 * Only one counter may be active at a time; the test must not run other database work concurrently.
 */

export interface RoundTripEntry {
  kind: 'query' | 'mark';
  text: string;
}

export interface RoundTripCounter {
  /** Statements sent since start (marks excluded). */
  count(): number;
  /** Statements sent before the first mark with this label (all of them when the mark never came). */
  countBefore(label: string): number;
  /** Statements sent after the first mark with this label (0 when the mark never came). */
  countAfter(label: string): number;
  /** The statements' first line, in order, with marks as `-- mark: <label>`: for failure messages. */
  statements(): string[];
  mark(label: string): void;
  stop(): void;
}

type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;

let active: RoundTripEntry[] | undefined;
let original: QueryFn | undefined;

function statementText(first: unknown): string {
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && 'text' in first) return String((first as { text: unknown }).text);
  return String(first);
}

export function startCountingRoundTrips(): RoundTripCounter {
  if (active) throw new Error('a round-trip counter is already running');
  const entries: RoundTripEntry[] = [];
  active = entries;
  if (!original) {
    original = pg.Client.prototype.query as unknown as QueryFn;
    const wrapped: QueryFn = function (this: pg.Client, ...args: unknown[]) {
      active?.push({ kind: 'query', text: statementText(args[0]).trim().split('\n')[0] ?? '' });
      return (original as QueryFn).apply(this, args);
    };
    (pg.Client.prototype as unknown as { query: QueryFn }).query = wrapped;
  }
  const queriesIn = (list: RoundTripEntry[]) => list.filter((e) => e.kind === 'query').length;
  const markIndex = (label: string) => entries.findIndex((e) => e.kind === 'mark' && e.text === label);
  return {
    count: () => queriesIn(entries),
    countBefore(label) {
      const at = markIndex(label);
      return queriesIn(at < 0 ? entries : entries.slice(0, at));
    },
    countAfter(label) {
      const at = markIndex(label);
      return at < 0 ? 0 : queriesIn(entries.slice(at + 1));
    },
    statements: () => entries.map((e) => (e.kind === 'mark' ? `-- mark: ${e.text}` : e.text)),
    mark(label) {
      entries.push({ kind: 'mark', text: label });
    },
    stop() {
      if (active === entries) active = undefined;
    },
  };
}
