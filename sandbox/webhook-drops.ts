/**
 * A sandbox test control: drop webhooks (never deployed). A dropped webhook is built, stored and
 * recorded like any other (so it can be resent later) but not sent: its delivery says
 * `dropped by the sandbox's dropWebhooks control`, the way an endpoint that was down, or an event that aged
 * past the provider's retry window, leaves the app without it.
 */

export interface DropWebhooksOptions {
  /** Which events: an exact event type, a RegExp tested on it, or every event (default). */
  match?: string | RegExp;
  /** How many matching deliveries to drop (default: every one until clearDrops()). */
  times?: number;
}

interface DropRule {
  match: string | RegExp | undefined;
  remaining: number;
}

export const DROPPED_WEBHOOK = 'dropped by the sandbox dropWebhooks control';

export class WebhookDrops {
  private rules: DropRule[] = [];

  add(options: DropWebhooksOptions = {}): void {
    const times = options.times ?? Number.POSITIVE_INFINITY;
    if (!(times >= 1)) throw new TypeError('dropWebhooks: times must be at least 1');
    this.rules.push({ match: options.match, remaining: times });
  }

  /** True when this delivery is to be dropped (and counts it against the rule that matched). */
  take(eventType: string): boolean {
    const rule = this.rules.find(
      (r) => r.match === undefined || (typeof r.match === 'string' ? r.match === eventType : r.match.test(eventType)),
    );
    if (!rule) return false;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    return true;
  }

  clear(): void {
    this.rules = [];
  }

  get pending(): number {
    return this.rules.length;
  }
}
