import { describe, expect, it } from 'vitest';
import { DispatcherMetrics } from '../../../src/observability/metrics.js';
import { SubscriptionHotMetrics } from '../../../src/observability/hot-metrics.js';

async function value(metrics: DispatcherMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  // A histogram's _count and _sum are values of the histogram, named in `metricName`.
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name || name.startsWith(`${m.name}_`));
  const values = metric?.values as Array<{ value: number; labels: Record<string, unknown>; metricName?: string }> | undefined;
  return values?.find((v) => (v.metricName ?? metric!.name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('SubscriptionHotMetrics', () => {
  it('shows every count in the next scrape, and counts nothing twice', async () => {
    const metrics = new DispatcherMetrics({ defaultMetrics: false });
    const hot = new SubscriptionHotMetrics(metrics, 'lab');
    for (let i = 0; i < 3; i++) {
      hot.attempt('accepted', 'A01');
      hot.accepted(2);
      hot.event('accepted');
    }
    hot.attempt('rejected', 'A08');
    expect(await value(metrics, 'mllp_events_total', { subscription: 'lab', outcome: 'accepted' })).toBe(3);
    expect(await value(metrics, 'mllp_send_attempts_total', { subscription: 'lab', outcome: 'rejected' })).toBe(1);
    expect(await value(metrics, 'mllp_messages_sent_total', { subscription: 'lab', trigger: 'A08' })).toBe(1);
    expect(await value(metrics, 'mllp_ack_latency_seconds_count', { subscription: 'lab' })).toBe(3);
    expect(await value(metrics, 'mllp_ack_latency_seconds_sum', { subscription: 'lab' })).toBeCloseTo(0.006);
    expect(Math.abs((await value(metrics, 'mllp_last_accepted_timestamp_seconds', { subscription: 'lab' }))! - Date.now() / 1000)).toBeLessThan(60);
    hot.event('accepted');
    expect(await value(metrics, 'mllp_events_total', { subscription: 'lab', outcome: 'accepted' })).toBe(4);
    // Read through a single metric's get() too (tests and collectors do).
    hot.event('accepted');
    expect((await metrics.events.get()).values.find((v) => v.labels.outcome === 'accepted')?.value).toBe(5);
  });

  it('hands latencies over in batches without losing one, also past a batch', async () => {
    const metrics = new DispatcherMetrics({ defaultMetrics: false });
    const hot = new SubscriptionHotMetrics(metrics, 'lab');
    for (let i = 0; i < 600; i++) hot.accepted(1);
    expect(await value(metrics, 'mllp_ack_latency_seconds_count', { subscription: 'lab' })).toBe(600);
  });

  it('drops the counts of a subscription that was removed, and keeps those of one replaced by a reload', async () => {
    const metrics = new DispatcherMetrics({ defaultMetrics: false });
    const old = new SubscriptionHotMetrics(metrics, 'lab');
    old.event('accepted');
    const replacement = new SubscriptionHotMetrics(metrics, 'lab');
    replacement.event('accepted');
    expect(await value(metrics, 'mllp_events_total', { subscription: 'lab', outcome: 'accepted' })).toBe(2);
    replacement.event('accepted');
    metrics.forget('lab');
    expect(await value(metrics, 'mllp_events_total', { subscription: 'lab', outcome: 'accepted' })).toBeUndefined();
  });
});
