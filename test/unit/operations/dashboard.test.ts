import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DispatcherMetrics } from '../../../src/observability/metrics.js';
import { pausedGauge } from '../../../src/operations/paused-feed.js';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';

interface Panel {
  title: string;
  targets: Array<{ expr: string }>;
}

const dashboard = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'deploy', 'grafana', 'mllp-dispatcher.json'), 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string }> } };
const alerts = readFileSync(join(PACKAGE_ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8');

/** The metric names the daemon exports (histograms as their _bucket/_sum/_count series). */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new DispatcherMetrics({ defaultMetrics: false });
  pausedGauge(metrics);
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

const referenced = (text: string) => [...new Set(text.match(/\b(?:mllp|hl7)_[a-z_]+\b/g) ?? [])];

describe('deploy/grafana/mllp-dispatcher.json', () => {
  it('has the panels operators need, each filtered by the subscription variable', () => {
    const titles = dashboard.panels.map((panel) => panel.title);
    for (const title of ['Throughput by outcome', 'ACK latency (accepted messages)', 'Oldest waiting event', 'Dead-letter depth and waiting events', 'Receiver up', 'Active consumer (all replicas)', 'Paused']) {
      expect(titles).toContain(title);
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'subscription']);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target.expr, panel.title).toContain('subscription=~"$subscription"');
    }
    expect(dashboard.panels.find((panel) => panel.title.startsWith('ACK latency'))!.targets.map((target) => target.expr.slice(0, 24))).toEqual([
      'histogram_quantile(0.5, ',
      'histogram_quantile(0.95,',
      'histogram_quantile(0.99,',
    ]);
  });

  it('uses only metrics the daemon exports, as do the alert rules', async () => {
    const names = await exportedNames();
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    expect(referenced(queries).filter((name) => !names.has(name))).toEqual([]);
    expect(referenced(alerts).filter((name) => !names.has(name))).toEqual([]);
    expect(referenced(queries)).toContain('mllp_subscription_paused');
  });
});
