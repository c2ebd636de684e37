/**
 * Every Redis key Eagle Eye uses is built here. Keys that one Lua script touches together share a
 * hash tag (the part in braces), so each script runs unchanged on Redis Cluster.
 *
 * Prefix: `ee` by default; tests use a random prefix per test so they never see each other's keys.
 */
export class RedisKeys {
  constructor(readonly prefix = 'ee') {}

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

  /** BullMQ prefix, so queues of different deployments/tests never collide */
  bullPrefix(): string {
    return `${this.prefix}:bull`;
  }

  // --- detector (apps/detector). Per-number keys carry `{n:<token>}`, per-device `{d:<token>}`,
  // so each detector script (caller, callee, device) touches one slot.

  /** caller windows: bucketed counters, calls seen (replay guard), watermark, first-seen (hash) */
  numWindows(token: string): string {
    return `${this.prefix}:{n:${token}}:w`;
  }

  /** distinct callees of one UTC day (HyperLogLog) */
  numDistinct(token: string, day: number): string {
    return `${this.prefix}:{n:${token}}:x${day}`;
  }

  /** familiarity: `<counterpart>` = this number called it, `t<counterpart>` = they talked (hash) */
  numFamiliar(token: string): string {
    return `${this.prefix}:{n:${token}}:f`;
  }

  /** callee state: calls in progress, alert state, suspect callers, cooldowns (hash) */
  numCallee(token: string): string {
    return `${this.prefix}:{n:${token}}:v`;
  }

  /** black/gray/white list mirror: scope ('*' or carrier id) -> `list|expiresAtMs|reason` (hash) */
  numLists(token: string): string {
    return `${this.prefix}:{n:${token}}:l`;
  }

  /** distinct SIMs (caller tokens) seen on one device (HyperLogLog) */
  deviceSims(token: string): string {
    return `${this.prefix}:{d:${token}}:s`;
  }

  /** duration-step due checks of calls in progress, one sorted set per shard */
  detectorDue(shard: number): string {
    return `${this.prefix}:{due${shard}}:z`;
  }

  /** event-time offset (max event time - wall clock) last seen on a hand-off partition */
  detectorWatermark(partition: number): string {
    return `${this.prefix}:{h${partition}}:wm`;
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
