import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constants, NodeGCPerformanceDetail, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * The process-wide Prometheus registry. Every app's /metrics serves it; the apps' own metric names
 * follow the Prometheus conventions with the `eagleeye_` prefix and base units (seconds, bytes).
 * Node's default metrics keep their usual unprefixed names (`process_*`, `nodejs_*`), so stock
 * dashboards and alerts for Node processes work as they are. Every series carries `service`.
 */
export const metricsRegistry = new Registry();
let defaultsStarted = false;

/** The version in the package.json of the install this process runs from (dist/ or the source). */
export function buildVersion(): string {
  let dir = __dirname;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'eagle-eye' && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

export function initDefaultMetrics(service: string): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry });
  new Gauge({
    name: 'eagleeye_build_info',
    help: 'Always 1; labels name the app and the version it runs (join on it to see versions in a rollout)',
    labelNames: ['app', 'version', 'node_version'],
    registers: [metricsRegistry],
  }).set({ app: service, version: buildVersion(), node_version: process.version }, 1);
  observeLiveHeap();
}

/**
 * `eagleeye_heap_live_bytes`: the V8 heap outside the young generation in use just after the last
 * full (mark-compact) collection: the long-lived live set, where a leak accumulates.
 * `nodejs_heap_size_used_bytes` also counts the garbage not collected yet, so its samples swing by
 * tens of MiB with the allocation rate and a leak hides in (or is faked by) the sawtooth; this gauge
 * moves only when a full collection finds more, or less, still reachable. It is read as the
 * collection's entry is delivered, soon after it; what was allocated in between is mostly in the
 * young generation, which it leaves out.
 */
function observeLiveHeap(): void {
  const live = new Gauge({
    name: 'eagleeye_heap_live_bytes',
    help: 'V8 heap outside the young generation in use right after the last full (mark-compact) garbage collection: the long-lived live set (0 until the first)',
    registers: [metricsRegistry],
  });
  live.set(0);
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: NodeGCPerformanceDetail }).detail?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      let used = 0;
      for (const sp of getHeapSpaceStatistics())
        if (!sp.space_name.startsWith('new_')) used += sp.space_used_size;
      live.set(used);
    }
  });
  // (an observer holds no handle: it never keeps the process alive, as prom-client's own GC metric)
  obs.observe({ entryTypes: ['gc'] });
}
