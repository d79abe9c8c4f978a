import { describe, expect, it } from 'vitest';
import { ACK_CODE_LABELS, ackCodeLabel, DispatcherMetrics } from '../../../src/observability/metrics.js';

describe('the MSA-1 code as a metric label', () => {
  it('is one of a fixed vocabulary, whatever the receiver sends', () => {
    expect(['AA', 'AE', 'AR', 'CA', 'CE', 'CR'].map(ackCodeLabel)).toEqual(['AA', 'AE', 'AR', 'CA', 'CE', 'CR']);
    expect(ackCodeLabel('')).toBe('none');
    for (const odd of ['ZZ', 'aa', 'none', 'other', 'Anne O\'Brien']) expect(ackCodeLabel(odd), odd).toBe('other');
    expect(ACK_CODE_LABELS).toContain(ackCodeLabel('anything'));
  });

  it('labels the ignored-frame and late-error counters, whose series a removed subscription loses', async () => {
    const metrics = new DispatcherMetrics({ defaultMetrics: false });
    metrics.ignoredFrames.inc({ subscription: 'feed', reason: 'duplicate-ack', code: 'AA' });
    metrics.lateErrors.inc({ subscription: 'feed', code: 'AE' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('mllp_ignored_frames_total{subscription="feed",reason="duplicate-ack",code="AA"} 1');
    expect(text).toContain('mllp_late_errors_total{subscription="feed",code="AE"} 1');
    metrics.forget('feed');
    const after = await metrics.registry.metrics();
    expect(after).not.toContain('subscription="feed"');
  });
});
