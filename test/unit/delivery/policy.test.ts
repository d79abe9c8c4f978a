import { describe, expect, it } from 'vitest';
import { classifySend, OUTCOMES, POLICY_OUTCOMES } from '../../../src/delivery/outcomes.js';
import { backoffDelay, decide, DEFAULT_POLICY, isRefusal, type OutcomePolicy, type RetrySettings } from '../../../src/delivery/policy.js';
import { ack, invalidAck, uncertain, unreachable } from './fakes.js';

const RETRY: RetrySettings = { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 4 };
const half = () => 0.5;

describe('outcome table', () => {
  it('names every outcome class of the README', () => {
    expect([...OUTCOMES].sort()).toEqual(
      [
        'accepted',
        'application-error',
        'rejected',
        'uncertain',
        'unreachable',
        'invalid-ack',
        'invalid-event',
        'expired',
        'filtered',
        'skipped',
        // Acknowledgment modes (README "Delivery and outcomes").
        'application-ack-timeout',
        'late-error',
      ].sort(),
    );
    expect([...POLICY_OUTCOMES].sort()).toEqual(['application-ack-timeout', 'application-error', 'invalid-ack', 'rejected', 'uncertain', 'unreachable']);
  });

  it.each([
    ['AA', 'accepted'],
    ['CA', 'accepted'],
    ['AE', 'application-error'],
    ['CE', 'application-error'],
    ['AR', 'rejected'],
    ['CR', 'rejected'],
    // Not in HL7 table 0008: cannot be trusted either way.
    ['ZZ', 'invalid-ack'],
    ['aa', 'invalid-ack'],
  ])('classifies MSA-1 %s as %s', (code, outcome) => {
    expect(classifySend(ack(code, 'C1'))).toBe(outcome);
  });

  it('passes transport failures through as their own class', () => {
    expect(classifySend(unreachable())).toBe('unreachable');
    expect(classifySend(uncertain())).toBe('uncertain');
    expect(classifySend(invalidAck())).toBe('invalid-ack');
  });
});

describe('default policy', () => {
  it('is the outcome table of the README', () => {
    expect(DEFAULT_POLICY).toEqual({
      'application-error': 'dead-letter',
      rejected: 'retry',
      'invalid-ack': 'retry',
      uncertain: 'retry',
      unreachable: 'retry',
      // Committed, then no application ACK: a resend would be a duplicate.
      'application-ack-timeout': 'dead-letter',
    });
  });

  it('dead-letters application-ack-timeout at once; set to retry it is bounded by retry.maxAttempts', () => {
    expect(decide('application-ack-timeout', 1, DEFAULT_POLICY, RETRY, half)).toEqual({ action: 'dead-letter' });
    const retrying: OutcomePolicy = { ...DEFAULT_POLICY, 'application-ack-timeout': 'retry' };
    expect(decide('application-ack-timeout', 1, retrying, RETRY, half).action).toBe('retry');
    expect(decide('application-ack-timeout', RETRY.maxAttempts, retrying, RETRY, half)).toEqual({ action: 'dead-letter' });
  });

  it('dead-letters application-error at the first attempt', () => {
    expect(decide('application-error', 1, DEFAULT_POLICY, RETRY, half)).toEqual({ action: 'dead-letter' });
  });

  it.each(['rejected', 'invalid-ack'] as const)('retries %s up to retry.maxAttempts sends, then dead-letters', (outcome) => {
    for (let attempt = 1; attempt < RETRY.maxAttempts; attempt++) {
      expect(decide(outcome, attempt, DEFAULT_POLICY, RETRY, half).action).toBe('retry');
    }
    // The maxAttempts-th send was the last one allowed.
    expect(decide(outcome, RETRY.maxAttempts, DEFAULT_POLICY, RETRY, half)).toEqual({ action: 'dead-letter' });
    expect(decide(outcome, RETRY.maxAttempts + 1, DEFAULT_POLICY, RETRY, half)).toEqual({ action: 'dead-letter' });
  });

  it.each(['rejected', 'invalid-ack'] as const)('with maxAttempts 1, %s is dead-lettered after the only send', (outcome) => {
    expect(decide(outcome, 1, DEFAULT_POLICY, { ...RETRY, maxAttempts: 1 }, half)).toEqual({ action: 'dead-letter' });
  });

  it.each(['uncertain', 'unreachable'] as const)('retries %s without limit: the stream waits for the receiver', (outcome) => {
    for (const attempt of [1, RETRY.maxAttempts, RETRY.maxAttempts + 1, 1_000, 1_000_000]) {
      const decision = decide(outcome, attempt, DEFAULT_POLICY, RETRY, half);
      expect(decision.action).toBe('retry');
      if (decision.action === 'retry') expect(decision.delayMs).toBeLessThanOrEqual(RETRY.maxDelayMs);
    }
  });

  it('counts only refusals (the receiver answered and said no) toward maxAttempts', () => {
    expect(POLICY_OUTCOMES.filter(isRefusal).sort()).toEqual(['application-ack-timeout', 'application-error', 'invalid-ack', 'rejected']);
  });

  it('gives the retry the backoff delay of that attempt, with the injected random', () => {
    const random = () => 0.25;
    expect(decide('rejected', 2, DEFAULT_POLICY, RETRY, random)).toEqual({ action: 'retry', delayMs: backoffDelay(2, RETRY, random) });
    // step 200: 100 fixed + 0.25 * 100
    expect(backoffDelay(2, RETRY, random)).toBe(125);
  });
});

describe('per-subscription policy overrides', () => {
  const override = (changes: Partial<OutcomePolicy>): OutcomePolicy => ({ ...DEFAULT_POLICY, ...changes });

  it('application-error: retry makes AE retry, bounded by maxAttempts', () => {
    const policy = override({ 'application-error': 'retry' });
    expect(decide('application-error', 1, policy, RETRY, half).action).toBe('retry');
    expect(decide('application-error', RETRY.maxAttempts - 1, policy, RETRY, half).action).toBe('retry');
    expect(decide('application-error', RETRY.maxAttempts, policy, RETRY, half).action).toBe('dead-letter');
  });

  it('rejected: dead-letter dead-letters AR at once', () => {
    expect(decide('rejected', 1, override({ rejected: 'dead-letter' }), RETRY, half)).toEqual({ action: 'dead-letter' });
  });

  it('invalid-ack: dead-letter dead-letters at once', () => {
    expect(decide('invalid-ack', 1, override({ 'invalid-ack': 'dead-letter' }), RETRY, half)).toEqual({ action: 'dead-letter' });
  });

  it.each(['uncertain', 'unreachable'] as const)('%s: dead-letter gives up at the first failure', (outcome) => {
    expect(decide(outcome, 1, override({ [outcome]: 'dead-letter' }), RETRY, half)).toEqual({ action: 'dead-letter' });
  });

  it('an override of one outcome leaves the others at their default', () => {
    const policy = override({ rejected: 'dead-letter' });
    expect(decide('application-error', 1, policy, RETRY, half).action).toBe('dead-letter');
    expect(decide('invalid-ack', 1, policy, RETRY, half).action).toBe('retry');
    expect(decide('unreachable', 99, policy, RETRY, half).action).toBe('retry');
  });
});

describe('backoffDelay (capped exponential, equal jitter)', () => {
  const retry = { initialDelayMs: 100, maxDelayMs: 1_000 };

  it('is exactly half the step when random() is 0 and (nearly) the full step when it is near 1', () => {
    const steps = [100, 200, 400, 800, 1_000, 1_000];
    steps.forEach((step, i) => {
      expect(backoffDelay(i + 1, retry, () => 0)).toBe(step / 2);
      expect(backoffDelay(i + 1, retry, () => 0.999_999)).toBe(step);
    });
  });

  it('stays within [step/2, step] for any random value', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const step = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
      for (const r of [0, 0.1, 0.33, 0.5, 0.77, 0.999]) {
        const delay = backoffDelay(attempt, retry, () => r);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }
    }
  });

  it('never exceeds maxDelayMs, even after very many attempts', () => {
    for (const attempt of [10, 31, 32, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelay(attempt, retry, () => 0.999_999);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeLessThanOrEqual(retry.maxDelayMs);
      expect(delay).toBeGreaterThanOrEqual(retry.maxDelayMs / 2);
    }
  });

  it('grows with the attempt for a fixed random value', () => {
    let previous = 0;
    for (let attempt = 1; attempt <= 10; attempt++) {
      const delay = backoffDelay(attempt, retry, half);
      expect(delay).toBeGreaterThanOrEqual(previous);
      previous = delay;
    }
    expect(backoffDelay(1, retry, half)).toBeLessThan(backoffDelay(4, retry, half));
  });

  it('treats attempt 0 or less as the first attempt', () => {
    expect(backoffDelay(0, retry, half)).toBe(backoffDelay(1, retry, half));
    expect(backoffDelay(-5, retry, half)).toBe(backoffDelay(1, retry, half));
  });

  it('is capped at maxDelayMs when initialDelayMs equals it', () => {
    expect(backoffDelay(1, { initialDelayMs: 50, maxDelayMs: 50 }, () => 0.999_999)).toBe(50);
    expect(backoffDelay(20, { initialDelayMs: 50, maxDelayMs: 50 }, () => 0)).toBe(25);
  });

  it('jitters: different random values give different delays for the same attempt', () => {
    const delays = new Set([0, 0.2, 0.4, 0.6, 0.8].map((r) => backoffDelay(3, retry, () => r)));
    expect(delays.size).toBe(5);
  });
});
