import type { Provider } from '../db/models/orders.js';
import type { EventHandler } from './types.js';

/**
 * Provider → event type → handler. Each provider's table is imported on first use so that a route
 * only loads what it needs (the PayPal SDK is heavy; see notes on import cost).
 */
export async function handlerFor(provider: Provider, eventType: string): Promise<EventHandler | undefined> {
  if (provider === 'stripe') {
    const { STRIPE_HANDLERS } = await import('./stripe/dispatch.js');
    return STRIPE_HANDLERS[eventType];
  }
  const { PAYPAL_HANDLERS } = await import('./paypal/dispatch.js');
  return PAYPAL_HANDLERS[eventType];
}
