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

  /** BullMQ prefix, so queues of different deployments/tests never collide */
  bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}
