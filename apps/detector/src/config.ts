import { hostname } from 'node:os';
import { baseSchema, env, z } from '@eagle-eye/config';
import { HANDOFF_DEFAULT_PARTITIONS } from '@eagle-eye/contracts';
import type { DetectionOptions } from './pipeline/work';

export const DetectorConfigSchema = baseSchema.extend({
  DETECTOR_HTTP_PORT: env.port(9102),
  DETECTOR_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  /** hand-off stream partitions; must equal ingest's */
  HANDOFF_PARTITIONS: env.int(HANDOFF_DEFAULT_PARTITIONS, 1, 1024),
  /** consumer name in the hand-off group: stable per replica, so a restart resumes its pending entries */
  DETECTOR_CONSUMER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .default(
      `${hostname()}-${process.env.DETECTOR_HTTP_PORT ?? '9102'}`
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 64),
    ),
  /** read and apply the hand-off streams (off: only the HTTP endpoints, for tools) */
  DETECTOR_CONSUME: env.bool(true),
  /** stream entries read per partition per round, at most */
  DETECTOR_READ_COUNT: env.int(100, 1, 10000),
  /**
   * events a round aims at: the entries read per partition follow the events per entry seen, so a
   * detector behind its traffic applies rounds of about this many events rather than
   * DETECTOR_READ_COUNT entries of every partition (about 50,000 events with 16 partitions)
   */
  DETECTOR_ROUND_EVENTS: env.int(8000, 100, 1000000),
  /**
   * read the next round as a round starts rather than when its caller stage ends: one round trip
   * less per round, but under steady traffic every event then waits a whole round more (about a
   * round's time of the event -> console latency); for comparisons
   */
  DETECTOR_READ_AHEAD: env.bool(false),
  /**
   * pause after a read of the hand-off that found nothing, ms, where it cannot be a blocking read (a
   * Redis Cluster; the previous round still in its second stage)
   */
  DETECTOR_IDLE_POLL_MS: env.int(10, 1, 1000),
  /**
   * longest wait of an idle detector's blocking read of the hand-off, ms: it ends as soon as an entry
   * arrives; the loop looks at its other duties (deferred writes due, takeovers, leases) between waits
   */
  DETECTOR_IDLE_BLOCK_MS: env.int(100, 1, 5000),
  /**
   * lease on each hand-off partition, ms: each replica reads only the partitions it holds (its share
   * of the live replicas, renewed every third of this), so one replica applies each calling number;
   * a dead replica's partitions move after this long. 0: every replica reads every partition
   */
  DETECTOR_PARTITION_LEASE_MS: env.int(10000, 0, 600000),
  /** entries pending this long on a consumer are taken over (the consumer is presumed dead) */
  DETECTOR_CLAIM_IDLE_MS: env.int(30000, 1000, 3600000),
  /** events older than a number's watermark minus this are counted and dropped */
  DETECTOR_LATENESS_MS: env.int(120000, 0, 86400000),
  /** how often the duration-step sweep runs */
  DETECTOR_SWEEP_INTERVAL_MS: env.int(200, 20, 60000),
  DETECTOR_DUE_SHARDS: env.int(16, 1, 1024),
  /** a claimed due check is retried after this long if its replica died */
  DETECTOR_DUE_LEASE_MS: env.int(5000, 100, 600000),
  /** safety-net rule version check, besides LISTEN/NOTIFY */
  DETECTOR_RULES_CHECK_MS: env.int(30000, 200, 3600000),
  /** re-mirror the number lists from PostgreSQL into Redis */
  DETECTOR_LIST_RESYNC_MS: env.int(6 * 3600000, 60000, 7 * 86400000),
  /** TTL of a number's per-day distinct-callee keys and callee keys, seconds (24 hours + lateness) */
  DETECTOR_WINDOW_TTL_S: env.int(26 * 3600, 3600, 30 * 86400),
  /** how long a number's windows hash outlives its last event, seconds (its TTL is set once a day, a day longer): it keeps the day buckets of the 7-day window */
  DETECTOR_HISTORY_TTL_S: env.int(8 * 86400 + 3600, 3600, 60 * 86400),
  /** how long familiarity (who called or talked with whom) is remembered, seconds */
  DETECTOR_FAMILIAR_TTL_S: env.int(30 * 86400, 3600, 365 * 86400),
  /**
   * where the calling numbers' windows are applied: 'node' (in the detector, one string per number
   * written once a round: about a tenth of the Redis CPU of 'script') or 'script' (caller-batch-1.lua
   * walks each number's windows hash in Redis; the default before December 2026). Not set: node.
   * The replicas of a deployment must not mix the two: a replica waits for, then refuses to join,
   * live replicas that keep them the other way (and, unless this is set, replicas of an earlier
   * version, which record no mode and default to script). To change it, stop every replica
   */
  DETECTOR_CALLER_WINDOWS: z.enum(['script', 'node']).optional(),
  /**
   * on one Redis server a round stage's calls of a per-key-group script go in one request; this
   * caps its arguments (Redis runs a request to its end before anyone else's command: the larger,
   * the longer ingest's hand-off writes and the alert queue wait behind it). 0: one request per
   * key group. Not set: 500 with node windows, 2,000 with script windows (the caller script takes
   * more arguments per event; below 2,000 it costs more CPU)
   */
  DETECTOR_SCRIPT_REQUEST_ARGS: z.coerce.number().int().min(0).max(10_000_000).optional(),
  /** 'node' windows: numbers whose windows a replica keeps in memory between rounds (as their strings, about 0.5 KB each); also the most whose deferred writes may wait: past it the oldest are written before their delay */
  DETECTOR_CALLER_STATES_HELD: env.int(50000, 0, 10_000_000),
  /** the bundled caller-risk model file ('' = apps/detector/models/caller-risk.json) */
  DETECTOR_MODEL_PATH: env.string(''),
  /**
   * 'node' windows with partition leases: how long a changed number's windows may wait in the
   * detector before they are written, ms (in event time or wall time, whichever passes first). A
   * number's events within it cost one write; a round's hand-off entries are acknowledged once
   * every number it changed is written, so a replica that dies meanwhile has them applied again,
   * onto the windows written before. 0: written by every round. At most half of
   * DETECTOR_CLAIM_IDLE_MS (entries waiting longer would be taken over as a dead replica's). Without
   * leases (DETECTOR_PARTITION_LEASE_MS=0) always 0: two replicas would apply the same numbers
   */
  DETECTOR_WINDOWS_WRITE_DELAY_MS: env.int(10000, 0, 300000),
});
export type DetectorConfig = z.infer<typeof DetectorConfigSchema>;
export const DETECTOR_CONFIG = Symbol('DETECTOR_CONFIG');

/** Where the caller windows are applied: DETECTOR_CALLER_WINDOWS, node when it is not set. */
export function callerWindows(config: DetectorConfig): 'script' | 'node' {
  return config.DETECTOR_CALLER_WINDOWS ?? 'node';
}

/** DETECTOR_SCRIPT_REQUEST_ARGS, or its default for the caller windows' mode (see the setting). */
export function scriptRequestArgs(config: DetectorConfig): number {
  return config.DETECTOR_SCRIPT_REQUEST_ARGS ?? (callerWindows(config) === 'node' ? 500 : 2000);
}

/** DETECTOR_WINDOWS_WRITE_DELAY_MS as it applies: 0 without partition leases, at most half the claim idle time. */
export function callerWriteDelayMs(config: DetectorConfig): number {
  if (config.DETECTOR_PARTITION_LEASE_MS === 0) return 0;
  return Math.min(config.DETECTOR_WINDOWS_WRITE_DELAY_MS, Math.floor(config.DETECTOR_CLAIM_IDLE_MS / 2));
}

/** The detection service's settings from the detector's configuration (live and backtest alike). */
export function detectionOptions(config: DetectorConfig): DetectionOptions {
  return {
    latenessMs: config.DETECTOR_LATENESS_MS,
    windowTtlS: config.DETECTOR_WINDOW_TTL_S,
    historyTtlS: config.DETECTOR_HISTORY_TTL_S,
    familiarTtlS: config.DETECTOR_FAMILIAR_TTL_S,
    dueShards: config.DETECTOR_DUE_SHARDS,
    dueLeaseMs: config.DETECTOR_DUE_LEASE_MS,
    partitions: config.HANDOFF_PARTITIONS,
    callerWindows: callerWindows(config),
    callerStatesHeld: config.DETECTOR_CALLER_STATES_HELD,
    callerWriteDelayMs: callerWriteDelayMs(config),
  };
}
