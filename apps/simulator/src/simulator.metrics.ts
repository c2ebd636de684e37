import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@eagle-eye/observability';

const registers = [metricsRegistry];

export const simMetrics = {
  eventsSent: new Counter({
    name: 'eagleeye_simulator_events_sent_total',
    help: 'Call events the simulator handed to its ingest streams',
    labelNames: ['carrier'],
    registers,
  }),
  acked: new Counter({
    name: 'eagleeye_simulator_events_acked_total',
    help: 'Call events ingest acknowledged, by result (accepted, duplicate, rejected)',
    labelNames: ['carrier', 'result'],
    registers,
  }),
  rejections: new Counter({
    name: 'eagleeye_simulator_rejections_total',
    help: 'Call events ingest rejected, by reason',
    labelNames: ['carrier', 'reason'],
    registers,
  }),
  ackLatency: new Histogram({
    name: 'eagleeye_simulator_ack_latency_seconds',
    help: 'Wall time from sending a batch to its ack',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  lag: new Gauge({
    name: 'eagleeye_simulator_lag_seconds',
    help: 'How far the simulator is behind its time-warped schedule',
    registers,
  }),
  unacked: new Gauge({
    name: 'eagleeye_simulator_unacked_batches',
    help: 'Batches sent and not yet acknowledged',
    registers,
  }),
  reconnects: new Counter({
    name: 'eagleeye_simulator_stream_reconnects_total',
    help: 'Ingest stream failures followed by a reconnect (unacked batches are resent)',
    registers,
  }),
  alertsSeen: new Counter({
    name: 'eagleeye_simulator_alerts_seen_total',
    help: 'Alerts the demo saw arrive on the console socket',
    registers,
  }),
  hookedVictims: new Counter({
    name: 'eagleeye_simulator_hooked_victims_total',
    help: 'Simulated victims kept on the line by a scammer (ground truth)',
    labelNames: ['scenario'],
    registers,
  }),
};
