import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@eagle-eye/observability';

/** Ingest metrics, all on the shared registry (served at /metrics). Counted per batch, not per event. */
export const ingestMetrics = {
  /**
   * Every event of every batch, by result: `accepted` (handed to the detector for the first time),
   * `duplicate` (redelivered: event id already handed over), `rejected` (refused by validation;
   * `reason` is the RejectCode name, empty for the other results).
   */
  events: new Counter({
    name: 'eagleeye_ingest_events_total',
    help: 'Events received, by carrier and result (accepted, duplicate, rejected) and rejection reason',
    labelNames: ['carrier', 'result', 'reason'],
    registers: [metricsRegistry],
  }),
  batchEvents: new Histogram({
    name: 'eagleeye_ingest_batch_events',
    help: 'Events per received batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
    registers: [metricsRegistry],
  }),
  ackLatency: new Histogram({
    name: 'eagleeye_ingest_ack_latency_seconds',
    help: 'From batch receipt to its ack (validation, backpressure wait, durable hand-off)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metricsRegistry],
  }),
  batchesRefused: new Counter({
    name: 'eagleeye_ingest_batches_refused_total',
    help: 'Batches or calls refused as a whole, by gRPC status',
    labelNames: ['code'],
    registers: [metricsRegistry],
  }),
  authFailures: new Counter({
    name: 'eagleeye_ingest_auth_failures_total',
    help: 'Calls refused as UNAUTHENTICATED, by cause',
    labelNames: ['cause'],
    registers: [metricsRegistry],
  }),
  callsRefused: new Counter({
    name: 'eagleeye_ingest_calls_refused_total',
    help: 'Authenticated calls refused because the carrier holds its maximum of open calls or connections, by kind (stream, unary, connection)',
    labelNames: ['kind'],
    registers: [metricsRegistry],
  }),
  rateLimited: new Counter({
    name: 'eagleeye_ingest_rate_limited_total',
    help: 'Batches refused by the per-carrier rate limit',
    labelNames: ['carrier'],
    registers: [metricsRegistry],
  }),
  openStreams: new Gauge({
    name: 'eagleeye_ingest_open_streams',
    help: 'StreamCallEvents calls currently open',
    registers: [metricsRegistry],
  }),
  backlog: new Gauge({
    name: 'eagleeye_ingest_handoff_backlog_entries',
    help: 'Entries in a hand-off partition stream (not yet deleted by the detector)',
    labelNames: ['partition'],
    registers: [metricsRegistry],
  }),
  lag: new Gauge({
    name: 'eagleeye_ingest_handoff_lag_entries',
    help: 'Entries of a partition stream not yet delivered to the detector group (XINFO GROUPS lag)',
    labelNames: ['partition'],
    registers: [metricsRegistry],
  }),
  backpressureWaits: new Counter({
    name: 'eagleeye_ingest_backpressure_waits_total',
    help: 'Batches held back because a partition backlog was over the limit',
    registers: [metricsRegistry],
  }),
};
