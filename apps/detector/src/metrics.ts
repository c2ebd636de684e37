import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@eagle-eye/observability';

function once<T>(name: string, make: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

export const eventsProcessed = once(
  'eagleeye_detector_events_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_events_total',
      help: 'Hand-off events by outcome: applied, duplicate, late (dropped), malformed',
      labelNames: ['result'],
      registers: [metricsRegistry],
    }),
);

export const detectionLatency = once(
  'eagleeye_detector_detection_latency_seconds',
  () =>
    new Histogram({
      name: 'eagleeye_detector_detection_latency_seconds',
      help: 'From ingest accepting the triggering event to the alert job being enqueued',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metricsRegistry],
    }),
);

export const alertsRaised = once(
  'eagleeye_detector_alerts_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_alerts_total',
      help: 'Alert jobs raised by kind and severity',
      labelNames: ['kind', 'severity'],
      registers: [metricsRegistry],
    }),
);

export const ruleHits = once(
  'eagleeye_detector_rule_hits_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_rule_hits_total',
      help: 'Rules contributing to raised alerts, by rule, severity and report-only',
      labelNames: ['rule', 'severity', 'report_only'],
      registers: [metricsRegistry],
    }),
);

export const callsInProgress = once(
  'eagleeye_detector_calls_in_progress',
  () =>
    new Gauge({
      name: 'eagleeye_detector_calls_in_progress',
      help: 'Answered calls with a pending duration-step check',
      registers: [metricsRegistry],
    }),
);

export const sweepLag = once(
  'eagleeye_detector_sweep_lag_seconds',
  () =>
    new Histogram({
      name: 'eagleeye_detector_sweep_lag_seconds',
      help: 'How late (event time) a duration-step check ran after it was due',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [metricsRegistry],
    }),
);

export const redisMemory = once(
  'eagleeye_detector_redis_memory_bytes',
  () =>
    new Gauge({
      name: 'eagleeye_detector_redis_memory_bytes',
      help: 'Redis used_memory',
      registers: [metricsRegistry],
    }),
);

export const streamLag = once(
  'eagleeye_detector_stream_lag_entries',
  () =>
    new Gauge({
      name: 'eagleeye_detector_stream_lag_entries',
      help: 'Hand-off entries not yet delivered to the detector group, per partition',
      labelNames: ['partition'],
      registers: [metricsRegistry],
    }),
);

export const ruleSetVersion = once(
  'eagleeye_detector_rule_set_version',
  () =>
    new Gauge({
      name: 'eagleeye_detector_rule_set_version',
      help: 'Version of the rule set this replica scores with',
      registers: [metricsRegistry],
    }),
);

export const callbackProbes = once(
  'eagleeye_detector_callback_probes_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_callback_probes_total',
      help: "Answered calls whose called number's own caller profile was read (one-ring call-back check), by result",
      labelNames: ['result'],
      registers: [metricsRegistry],
    }),
);

/**
 * What adds to eagleeye_detector_model_scores_total when it is read: the model registries count
 * their evaluations (one per scored event) in plain numbers and fold them in here, since a labelled
 * increment of prom-client hashes its labels and allocates on every call.
 */
export const modelScoreSources = new Set<() => void>();

export const modelScores = once(
  'eagleeye_detector_model_scores_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_model_scores_total',
      help: 'Caller-risk model evaluations by model version and outcome: suspect, below, missing (version not loaded yet); shadow models count as role="shadow"',
      labelNames: ['model', 'role', 'outcome'],
      registers: [metricsRegistry],
      collect() {
        for (const fold of modelScoreSources) fold();
      },
    }),
);

/**
 * Where a hand-off round's time goes, stage by stage (issue 13's latency breakdown): `read` (the
 * XREADGROUP round trip of every partition), `callers` (first stage: caller scripts and scores),
 * `wait` (for the previous round's second stage, which runs meanwhile), `finish` (second stage:
 * callee scripts, claims, alert jobs enqueued) and `ack` (XACK, XDEL and watermarks).
 */
export const roundStageSeconds = once(
  'eagleeye_detector_round_stage_seconds',
  () =>
    new Histogram({
      name: 'eagleeye_detector_round_stage_seconds',
      help: 'Time a hand-off round spends in each stage: read, callers, wait, finish, ack',
      labelNames: ['stage'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [metricsRegistry],
    }),
);

/**
 * Events per hand-off round (a round asks each partition for about DETECTOR_ROUND_EVENTS events'
 * worth of entries, DETECTOR_READ_COUNT at most).
 */
export const roundEvents = once(
  'eagleeye_detector_round_events',
  () =>
    new Histogram({
      name: 'eagleeye_detector_round_events',
      help: 'Hand-off events applied per round',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [metricsRegistry],
    }),
);

/** Node caller windows (DETECTOR_CALLER_WINDOWS=node, windows/caller-states.ts). */
export const callerStates = {
  reads: once(
    'eagleeye_detector_caller_state_reads_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_reads_total',
        help: 'Caller windows a round used, by where they came from: held (in memory), redis (the stored string), script-hash (built from the caller script windows hash: moved on its first write), new',
        labelNames: ['source'],
        registers: [metricsRegistry],
      }),
  ),
  written: once(
    'eagleeye_detector_caller_state_writes_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_writes_total',
        help: 'Caller windows strings written',
        registers: [metricsRegistry],
      }),
  ),
  conflicts: once(
    'eagleeye_detector_caller_state_conflicts_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_conflicts_total',
        help: 'Caller windows writes refused because another replica had written the number since it was read (its events are re-applied)',
        registers: [metricsRegistry],
      }),
  ),
  bytes: once(
    'eagleeye_detector_caller_state_written_bytes_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_written_bytes_total',
        help: 'Bytes of caller windows strings written',
        registers: [metricsRegistry],
      }),
  ),
  evicted: once(
    'eagleeye_detector_caller_state_evicted_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_evicted_total',
        help: 'Caller windows forgotten to keep DETECTOR_CALLER_STATES_HELD numbers in memory (read again from Redis when needed)',
        registers: [metricsRegistry],
      }),
  ),
  deferred: once(
    'eagleeye_detector_caller_state_changes_deferred_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_changes_deferred_total',
        help: 'Caller windows changes kept in memory to be written later (DETECTOR_WINDOWS_WRITE_DELAY_MS): written strings over these is the share of writes saved',
        registers: [metricsRegistry],
      }),
  ),
  early: once(
    'eagleeye_detector_caller_state_writes_early_total',
    () =>
      new Counter({
        name: 'eagleeye_detector_caller_state_writes_early_total',
        help: 'Caller windows written before DETECTOR_WINDOWS_WRITE_DELAY_MS because more than DETECTOR_CALLER_STATES_HELD numbers waited (a detector behind its traffic)',
        registers: [metricsRegistry],
      }),
  ),
  dirty: once(
    'eagleeye_detector_caller_states_dirty',
    () =>
      new Gauge({
        name: 'eagleeye_detector_caller_states_dirty',
        help: 'Numbers whose changed caller windows wait to be written (their rounds are not acknowledged yet)',
        registers: [metricsRegistry],
      }),
  ),
  held: once(
    'eagleeye_detector_caller_states_held',
    () =>
      new Gauge({
        name: 'eagleeye_detector_caller_states_held',
        help: 'Numbers whose caller windows the detector holds in memory',
        registers: [metricsRegistry],
      }),
  ),
};

/**
 * Script calls of the detector (lua/detector-scripts.ts), by script: `calls` as the pipeline asks
 * for them (one per key group and stage of a round), `requests` the EVALSHAs sent to Redis (on one
 * Redis server a round's calls of a script share one). Redis spends a fixed amount on each request.
 */
export const scriptCalls = once(
  'eagleeye_detector_script_calls_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_script_calls_total',
      help: 'Detector Lua script calls by script, kind=calls (one per key group and stage) or kind=requests (EVALSHAs sent: on one Redis server, a round stage makes one per script)',
      labelNames: ['script', 'kind'],
      registers: [metricsRegistry],
    }),
);

/** Hand-off partitions this replica owns and reads (partition-leases.ts). */
export const partitionsOwned = once(
  'eagleeye_detector_partitions_owned',
  () =>
    new Gauge({
      name: 'eagleeye_detector_partitions_owned',
      help: 'Hand-off partitions whose lease this replica holds and reads (all of them when DETECTOR_PARTITION_LEASE_MS=0)',
      registers: [metricsRegistry],
    }),
);

/** Changes of partition ownership: acquired, released (handed to another replica), lost (expired under it). */
export const partitionHandovers = once(
  'eagleeye_detector_partition_handovers_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_partition_handovers_total',
      help: 'Hand-off partition leases acquired, released (handed to another replica) or lost (expired or taken while this replica held it)',
      labelNames: ['kind'],
      registers: [metricsRegistry],
    }),
);

export const alertQueueJobsAdded = once(
  'eagleeye_detector_alert_queue_jobs_total',
  () =>
    new Counter({
      name: 'eagleeye_detector_alert_queue_jobs_total',
      help: 'Jobs added to the alerts queue: `single` carries one alert job, `batch` two or more of one round (alert-batch)',
      labelNames: ['job'],
      registers: [metricsRegistry],
    }),
);

/** Entries the last read asked of each partition (RoundSize: DETECTOR_ROUND_EVENTS over the events per entry seen). */
export const readEntries = once(
  'eagleeye_detector_read_entries',
  () =>
    new Gauge({
      name: 'eagleeye_detector_read_entries',
      help: 'Hand-off entries the last read asked of each partition',
      registers: [metricsRegistry],
    }),
);
