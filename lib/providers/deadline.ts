import { ProviderError } from './checkout-provider.js';
import type { ProviderRefundRequest, ProviderRefundResult, RefundProvider } from './refund-provider.js';

/**
 * A hard deadline on one provider operation: whatever the SDK does inside (retries, a Retry-After
 * sleep, a token fetch), the caller has an answer within `ms`. Past it, the result is a ProviderError
 * of kind `timeout`, which is never `refused`: the provider may still have done it, so the caller
 * treats the outcome as unknown (a refund stays pending and is checked again with the same key).
 * The SDK's request itself is not cancelled; its late answer is ignored.
 */
export async function withDeadline<T>(provider: RefundProvider['name'], ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined); // a late rejection after the deadline is not unhandled
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ProviderError(provider, 'timeout', `${provider} gave no answer within ${ms} ms`, { kind: 'timeout' })),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The same refund provider, every call cut at `ms`. */
export function withRefundDeadline(inner: RefundProvider, ms: number): RefundProvider {
  return {
    name: inner.name,
    async refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
      return await withDeadline(inner.name, ms, inner.refund(request));
    },
  };
}
