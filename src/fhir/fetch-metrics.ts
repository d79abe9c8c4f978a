import { Counter, Histogram, type Registry } from 'prom-client';
import { FETCH_OUTCOMES, type FetchOutcome } from './fhir-client.js';

/**
 * Metrics of FHIR reads (README, "Reference events"): latency and outcomes per
 * subscription. Labels are the subscription and the fixed outcome vocabulary of
 * fhir-client.ts: never a URL, a source's host or an id.
 */
export interface FetchMetrics {
  latency: Histogram<'subscription'>;
  fetches: Counter<'subscription' | 'outcome'>;
}

/** One set per registry (the daemon has one registry; tests may make several). */
const byRegistry = new WeakMap<Registry, FetchMetrics>();

export function fetchMetrics(registry: Registry): FetchMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      latency: new Histogram({
        name: 'mllp_fhir_fetch_seconds',
        help: 'Time to read a referenced resource from its FHIR server (every attempt).',
        labelNames: ['subscription'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
      fetches: new Counter({
        name: 'mllp_fhir_fetches_total',
        help: `Reads of referenced resources, by outcome (${FETCH_OUTCOMES.join(', ')}).`,
        labelNames: ['subscription', 'outcome'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}

/** Removes a subscription's series (it was removed by a live reload). */
export function forgetFetchMetrics(registry: Registry, subscription: string): void {
  const metrics = byRegistry.get(registry);
  if (!metrics) return;
  metrics.latency.remove({ subscription });
  for (const outcome of FETCH_OUTCOMES) metrics.fetches.remove({ subscription, outcome: outcome satisfies FetchOutcome });
}
