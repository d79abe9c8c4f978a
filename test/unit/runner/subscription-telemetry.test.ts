import { describe, expect, it } from 'vitest';
import type { AttemptReport, Job } from '../../../src/delivery/job.js';
import type { SendOutcome } from '../../../src/delivery/outcomes.js';
import { DispatcherMetrics } from '../../../src/observability/metrics.js';
import { SubscriptionTelemetry } from '../../../src/runner/subscription-telemetry.js';
import type { Settlement } from '../../../src/runner/settler.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';

const job: Job = { seq: 1, eventId: 'evt-1', messages: [{ trigger: 'A01', controlId: 'CTRL-1', text: 'MSH|...' }], laneKey: 'k', barrier: false, receivedAt: 0, generation: 1, redelivered: false };

function report(outcome: SendOutcome, extra: Partial<AttemptReport> = {}): AttemptReport {
  return { job, message: job.messages[0]!, lane: 0, attempt: 1, outcome, ...extra };
}

async function gauge(metrics: DispatcherMetrics, name: string): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  return (metric?.values as Array<{ value: number }> | undefined)?.[0]?.value;
}

function setup() {
  const metrics = new DispatcherMetrics({ defaultMetrics: false });
  const { logger, lines } = capturingLogger();
  const telemetry = new SubscriptionTelemetry(metrics, 'feed', logger, { host: '127.0.0.1', port: 2575, secure: false });
  return { metrics, lines, telemetry };
}

describe('SubscriptionTelemetry', () => {
  it('tracks the receiver going down and coming back: health, the gauge, one failure line, one recovery line', async () => {
    const { metrics, lines, telemetry } = setup();
    expect(telemetry.health()).toEqual({ receiverConnections: 0, receiverUp: true, unroutableDeadLetters: 0 });
    for (let i = 0; i < 3; i++) telemetry.attempted(report('unreachable', { reason: 'socket error ECONNREFUSED', retryInMs: 100 }));
    const down = telemetry.health();
    expect(down.receiverUp).toBe(false);
    expect(down.receiverError).toBe('socket error ECONNREFUSED');
    expect(typeof down.receiverDownSince).toBe('string');
    expect(await gauge(metrics, 'mllp_receiver_up')).toBe(0);
    telemetry.attempted(report('accepted', { ackCode: 'AA', latencyMs: 2 }));
    expect(telemetry.health()).toEqual({ receiverConnections: 0, receiverUp: true, unroutableDeadLetters: 0 });
    expect(await gauge(metrics, 'mllp_receiver_up')).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    const warnings = lines.filter((line) => line.msg === 'receiver unreachable' && line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(lines.filter((line) => line.msg === 'receiver accepting messages again')).toHaveLength(1);
  });

  it('logs one line per settled event, with the fields the README lists, and counts dead letters', async () => {
    const { metrics, lines, telemetry } = setup();
    const settlement: Settlement = { outcome: 'rejected', action: 'dead-letter', eventId: 'evt-1', controlId: 'CTRL-1', trigger: 'A01', ackCode: 'AR', attempts: 3, latencyMs: 1.5, reason: 'receiver answered AR' };
    telemetry.settled(settlement, 1);
    await new Promise((resolve) => setImmediate(resolve));
    const line = lines.find((candidate) => candidate.msg === 'event dead-lettered');
    expect(line).toMatchObject({ eventId: 'evt-1', outcome: 'rejected', controlId: 'CTRL-1', trigger: 'A01', ackCode: 'AR', attempts: 3, latencyMs: 1.5, possibleDuplicates: 1 });
    expect(await gauge(metrics, 'mllp_dead_letters_total')).toBe(1);
  });

  it('shows the broker state and a block in the gauges', async () => {
    const { metrics, telemetry } = setup();
    telemetry.brokerState('consuming');
    telemetry.brokerBlocked('low on memory');
    expect(await gauge(metrics, 'mllp_subscription_consuming')).toBe(1);
    expect(await gauge(metrics, 'mllp_broker_blocked')).toBe(1);
    telemetry.brokerBlocked(undefined);
    telemetry.brokerState('connecting');
    expect(await gauge(metrics, 'mllp_broker_blocked')).toBe(0);
    expect(await gauge(metrics, 'mllp_broker_connected')).toBe(0);
  });

  it('counts the rate-limit wait in seconds and ignored frames by reason and MSA-1 code', async () => {
    const { metrics, lines, telemetry } = setup();
    telemetry.attempted(report('accepted', { ackCode: 'AA', latencyMs: 2, throttledMs: 250 }));
    telemetry.attempted(report('accepted', { ackCode: 'AA', latencyMs: 2 }));
    expect(await gauge(metrics, 'mllp_rate_limit_wait_seconds_total')).toBe(0.25);
    telemetry.connections.ignoredFrame(0, 'duplicate-ack', 'AA');
    telemetry.connections.ignoredFrame(0, 'duplicate-ack', '');
    const ignored = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'mllp_ignored_frames_total');
    const counts = (ignored?.values ?? []).filter((value) => value.value > 0).map((value) => [value.labels.reason, value.labels.code, value.value]);
    expect(counts).toEqual([
      ['duplicate-ack', 'AA', 1],
      ['duplicate-ack', 'none', 1],
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((line) => line.msg === 'ignored a frame that answers nothing in flight').map((line) => line.ackCode)).toEqual(['AA', 'none']);
  });

  it('polls both queue depths into mllp_queue_messages', async () => {
    const { metrics, telemetry } = setup();
    const session = { state: 'consuming' as const, messageCounts: (queues: readonly string[]) => Promise.resolve(queues.map((_, index) => (index === 0 ? 7 : 2))) };
    await telemetry.pollQueueDepths(session as unknown as Parameters<typeof telemetry.pollQueueDepths>[0]);
    const depths = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'mllp_queue_messages');
    expect((depths?.values ?? []).map((value) => [value.labels.queue, value.value])).toEqual([
      ['events', 7],
      ['dead', 2],
    ]);
  });
});
