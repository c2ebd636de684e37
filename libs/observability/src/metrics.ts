import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
}
