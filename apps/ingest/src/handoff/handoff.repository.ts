import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { HandoffEvent, handoffPartition, packEvents } from '@eagle-eye/contracts';
import { isCluster, REDIS, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { IngestConfig, INGEST_CONFIG } from '../config';
import { HANDOFF_SCRIPT_FILE, loadLua } from '../lua/scripts';
import { FINGERPRINT_BYTES, writeEventFingerprint } from './event-fingerprint';

/** One Lua call: events of one carrier in one partition. */
export interface HandoffChunk {
  partition: number;
  events: HandoffEvent[];
}

export interface HandoffOutcome {
  accepted: number;
  duplicates: number;
}

type HandoffReply = [string, string];
type RedisWithHandoff = Redis & {
  eeHandoff(numKeys: number, ...keysAndArgs: (string | number | Buffer)[]): Promise<HandoffReply>;
};

/**
 * The durable, idempotent hand-off to the detector (see libs/contracts handoff.ts): one Redis
 * Streams entry per partition chunk, written by a Lua script that also records each event id's
 * 8-byte fingerprint (event-fingerprint.ts) in a dedupe set (per partition, carrier and event-time
 * bucket: a redelivered event has the same event time, so it meets its original there), so a
 * redelivered event never reaches the stream twice.
 */
@Injectable()
export class HandoffRepository {
  private readonly redis: RedisWithHandoff;

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {
    // ioredis sends EVALSHA and falls back to EVAL only on NOSCRIPT.
    redis.defineCommand('eeHandoff', { lua: loadLua(HANDOFF_SCRIPT_FILE) });
    // On a Redis Cluster, ioredis's auto-pipelining groups a defined script by its first argument,
    // here the key count, not its first key: mixed slots in one pipeline, refused. Sent directly
    // instead (still in order: one connection per node).
    const client = redis as RedisClient;
    if (isCluster(client)) client.options.autoPipeliningIgnoredCommands?.push('eeHandoff');
    this.redis = redis as RedisWithHandoff;
  }

  /** Groups events by partition (by calling number: a call's events keep their order) and splits large groups. */
  plan(carrierId: string, events: readonly HandoffEvent[]): HandoffChunk[] {
    const byPartition = new Map<number, HandoffEvent[]>();
    const partitions = this.config.HANDOFF_PARTITIONS;
    for (const ev of events) {
      const p = handoffPartition(ev.caller, partitions);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(ev);
    }
    const max = this.config.INGEST_HANDOFF_CHUNK_EVENTS;
    const chunks: HandoffChunk[] = [];
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length; i += max) chunks.push({ partition, events: list.slice(i, i + max) });
    }
    return chunks;
  }

  /**
   * Runs every chunk's script. The calls are issued synchronously, in order, on one connection, so
   * Redis applies them in the order batches arrived. Resolves once every XADD has succeeded.
   */
  async execute(
    carrierId: string,
    chunks: readonly HandoffChunk[],
    traceparent?: string,
  ): Promise<HandoffOutcome> {
    const replies = await Promise.all(chunks.map((c) => this.runChunk(carrierId, c, traceparent ?? '')));
    let accepted = 0;
    let duplicates = 0;
    for (const [, flags] of replies) {
      for (let i = 0; i < flags.length; i++) {
        if (flags.charCodeAt(i) === 49 /* '1' */) duplicates++;
        else accepted++;
      }
    }
    return { accepted, duplicates };
  }

  private runChunk(carrierId: string, chunk: HandoffChunk, traceparent: string): Promise<HandoffReply> {
    const keys: string[] = [this.keys.handoffStream(chunk.partition)];
    const keyIndex = new Map<number, number>();
    const bucketMs = this.config.INGEST_DEDUPE_BUCKET_S * 1000;
    const n = chunk.events.length;
    const keyOf = new Array<number>(n);
    const fingerprints = Buffer.allocUnsafe(n * FINGERPRINT_BYTES);
    for (let i = 0; i < n; i++) {
      const ev = chunk.events[i];
      const bucket = Math.floor(ev.t / bucketMs);
      let k = keyIndex.get(bucket);
      if (k === undefined) {
        keys.push(this.keys.handoffSeen(chunk.partition, carrierId, bucket));
        k = keys.length; // Lua KEYS are 1-based
        if (k > 255) throw new Error('a hand-off chunk spans more than 254 dedupe buckets');
        keyIndex.set(bucket, k);
      }
      keyOf[i] = k;
      writeEventFingerprint(ev.id, fingerprints, i * FINGERPRINT_BYTES);
    }
    return this.redis.eeHandoff(
      keys.length,
      ...keys,
      this.config.INGEST_DEDUPE_TTL_S,
      carrierId,
      packEvents(chunk.events),
      Buffer.from(keyOf), // raw bytes: one per event
      fingerprints,
      traceparent, // once per entry (field `t`), '' for none
    );
  }
}
