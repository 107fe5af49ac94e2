import { afterEach, describe, expect, it } from 'vitest';
import { armCrashPointForTests, disarmCrashPointsForTests, unsafeCrashPointForTests } from '../../lib/testing/crash-points.js';

afterEach(() => disarmCrashPointsForTests());

describe('crash points are inert outside tests', () => {
  it('arming refuses and a boundary does nothing when NODE_ENV is not test', () => {
    armCrashPointForTests('checkout.after-hold');
    process.env.NODE_ENV = 'production';
    try {
      expect(() => unsafeCrashPointForTests('checkout.after-hold')).not.toThrow();
      expect(() => armCrashPointForTests('webhook.after-store')).toThrow(/only available when NODE_ENV=test/);
    } finally {
      process.env.NODE_ENV = 'test';
    }
  });
});
