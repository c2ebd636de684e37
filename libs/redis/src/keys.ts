/**
 * Every Redis key Eagle Eye uses is built here. Keys that one Lua script touches together share a
 * hash tag (the part in braces), so each script runs unchanged on Redis Cluster.
 *
 * Prefix: `ee` by default; tests use a random prefix per test so they never see each other's keys.
 */
/**
 * Key groups of a deployment unless REDIS_KEY_GROUPS says otherwise (see RedisKeys.keyGroup). 64
 * until December 2026: each group costs every round's scripts a call of their own, and with 64 a
 * 500-event round gave each group about 8 numbers (docs/performance-log.md, "Sixteen key groups").
 * A keyspace of another count is moved at the detector's start (migrateKeyLayout).
 */
export const DEFAULT_KEY_GROUPS = 16;

/** The key group of a token: FNV-1a of the token (salted, so it is independent of hand-off partitions). */
export function keyGroupOf(token: string, groups: number): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % groups;
}

export class RedisKeys {
  constructor(
    readonly prefix = 'ee',
    readonly groups = DEFAULT_KEY_GROUPS,
  ) {
    if (!Number.isInteger(groups) || groups < 1 || groups > 16384)
      throw new Error(`key groups must be an integer from 1 to 16384, got ${groups}`);
  }

  /** hand-off stream of one partition (see libs/contracts handoff.ts) */
  handoffStream(partition: number): string {
    return `${this.prefix}:{h${partition}}:events`;
  }

  /** ingest dedupe record of one call: field per event id already handed over */
  handoffDedupe(partition: number, carrierId: string, callId: string): string {
    return `${this.prefix}:{h${partition}}:dedupe:${carrierId}:${callId}`;
  }

  /**
   * ingest dedupe set: ids of one carrier's events handed over in one partition whose event time
   * falls in one bucket (event time / bucket length), so a redelivery finds its original in one
   * lookup per chunk rather than one per call
   */
  handoffSeen(partition: number, carrierId: string, bucket: number): string {
    return `${this.prefix}:{h${partition}}:seen:${carrierId}:${bucket}`;
  }

  /** keys of a Redis Cluster: the BullMQ prefix then carries a hash tag (RedisModule sets it) */
  cluster = false;

  /**
   * BullMQ prefix, so queues of different deployments/tests never collide. On a Redis Cluster it
   * is a hash tag (`{ee}:bull`): BullMQ's scripts touch all of a queue's keys at once, which must
   * share a slot. A single Redis keeps `ee:bull`, so the jobs of a running deployment stay where
   * they are (moving to a cluster is a move to new Redis servers anyway; see README, Redis Cluster).
   */
  bullPrefix(): string {
    return this.cluster ? `{${this.prefix}}:bull` : `${this.prefix}:bull`;
  }

  // --- detector (apps/detector). Per-number and per-handset keys live in KEY GROUPS: a fixed
  // number of hash tags `{g<k>}`, k = keyGroup(token). Every key of one number shares its group's
  // slot (so each per-number script touches one slot, as before), and one script call can apply a
  // whole round's events for every number of a group (caller-batch-1.lua) instead of one call per
  // event. The group count is a deployment constant (REDIS_KEY_GROUPS): changing it moves keys
  // (see key-groups.ts).

  /** the key group of a number or handset token */
  keyGroup(token: string): number {
    return keyGroupOf(token, this.groups);
  }

  /** the key stem of group k, `<prefix>:{g<k>}:`: every per-number and per-handset key starts with one */
  groupStem(group: number): string {
    return `${this.prefix}:{g${group}}:`;
  }

  /** the stem of one number's keys: `<prefix>:{g<k>}:n:<token>` */
  private num(token: string): string {
    return `${this.prefix}:{g${keyGroupOf(token, this.groups)}}:n:${token}`;
  }

  /** caller windows: bucketed counters, calls seen (replay guard), watermark, first-seen (hash) */
  numWindows(token: string): string {
    return `${this.num(token)}:w`;
  }

  /**
   * caller windows kept by the detector (DETECTOR_CALLER_WINDOWS=node): one binary string
   * (libs/scoring caller-state.ts); the windows hash then keeps only the received calls
   */
  numState(token: string): string {
    return `${this.num(token)}:s`;
  }

  /** distinct callees of one UTC day (HyperLogLog) */
  numDistinct(token: string, day: number): string {
    return `${this.num(token)}:x${day}`;
  }

  /** familiarity: `<counterpart>` = this number called it, `t<counterpart>` = they talked (hash) */
  numFamiliar(token: string): string {
    return `${this.num(token)}:f`;
  }

  /** callee state: calls in progress, alert state, suspect callers, cooldowns (hash) */
  numCallee(token: string): string {
    return `${this.num(token)}:v`;
  }

  /** black/gray/white list mirror: scope ('*' or carrier id) -> `list|expiresAtMs|reason` (hash) */
  numLists(token: string): string {
    return `${this.num(token)}:l`;
  }

  /** distinct SIMs (caller tokens) seen on one device (HyperLogLog) */
  deviceSims(token: string): string {
    return `${this.prefix}:{g${keyGroupOf(token, this.groups)}}:d:${token}:s`;
  }

  /** which key layout this keyspace holds (`g<groups>`), set when it was created or migrated */
  keyLayout(): string {
    return `${this.prefix}:{meta}:key-layout`;
  }

  /** duration-step due checks of calls in progress, one sorted set per shard */
  detectorDue(shard: number): string {
    return `${this.prefix}:{due${shard}}:z`;
  }

  /** event-time offset (max event time - wall clock) last seen on a hand-off partition */
  detectorWatermark(partition: number): string {
    return `${this.prefix}:{h${partition}}:wm`;
  }

  /**
   * the detector replica that owns a hand-off partition: its consumer name, with the lease's expiry
   * as the key's TTL (apps/detector partition-leases.ts)
   */
  partitionOwner(partition: number): string {
    return `${this.prefix}:{h${partition}}:owner`;
  }

  /** live detector replicas: consumer name -> when its registration expires, ms on Redis's clock (sorted set) */
  detectorMembers(): string {
    return `${this.prefix}:{meta}:detectors`;
  }

  /** how each live detector replica keeps caller windows: consumer name -> 'script' | 'node' (hash) */
  detectorWindowModes(): string {
    return `${this.prefix}:{meta}:detector-windows`;
  }

  /** event time at which the detector began observing (set once): before a number can count as
   *  new, the detector must have watched long enough to know it was absent */
  detectorObservingSince(): string {
    return `${this.prefix}:{meta}:observing-since`;
  }

  // --- alerts (apps/alert-worker -> apps/console)

  /** socket.io Redis adapter/emitter channel prefix shared by the worker and every console replica */
  socketIoChannel(): string {
    return `${this.prefix}:sio`;
  }
}
