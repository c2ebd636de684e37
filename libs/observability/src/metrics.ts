import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process-wide Prometheus registry. Every app's /metrics serves it; metric names follow the
 * Prometheus conventions with the `eagleeye_` prefix and base units (seconds, bytes).
 */
export const metricsRegistry = new Registry();
let defaultsStarted = false;

export function initDefaultMetrics(service: string): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'eagleeye_' });
}
