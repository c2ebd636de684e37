import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig } from '@eagle-eye/config';
import { decodeHandoffEntry, HandoffEvent, handoffPartition, validateBatch } from '@eagle-eye/contracts';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { connectTestRedis, dropRedisPrefix, testRedisUrl, uniqueId } from '@eagle-eye/testing';
import { IngestConfigSchema } from '../config';
import { HANDOFF_SCRIPT_FILE, loadLua } from '../lua/scripts';
import { callEvents } from '../testing/call-events';
import { eventFingerprint } from './event-fingerprint';
import { HandoffRepository } from './handoff.repository';

// Changing the script is a contract change: update the pin deliberately.
const HANDOFF_SHA = '6f81f8cce459e839d25809febf76f2f57e9ac2cf';

describe('HandoffRepository (real Redis)', () => {
  let admin: Redis;
  let client: Redis;
  let prefix: string;
  let keys: RedisKeys;
  let repo: HandoffRepository;
  const config = loadConfig(IngestConfigSchema, {
    HANDOFF_PARTITIONS: '4',
    INGEST_HANDOFF_CHUNK_EVENTS: '50',
  });

  beforeEach(async () => {
    admin = await connectTestRedis();
    client = createRedis(testRedisUrl());
    prefix = uniqueId('ee');
    keys = new RedisKeys(prefix);
    repo = new HandoffRepository(client, keys, config);
  });
  afterEach(async () => {
    await dropRedisPrefix(admin, prefix);
    admin.disconnect();
    client.disconnect();
  });

  it('pins the script SHA, and Redis computes the same one', async () => {
    const lua = loadLua(HANDOFF_SCRIPT_FILE);
    const sha = createHash('sha1').update(lua).digest('hex');
    expect(sha).toBe(HANDOFF_SHA);
    expect(await admin.script('LOAD', lua)).toBe(HANDOFF_SHA);
    expect(lua).toMatch(/KEYS\[1\][\s\S]*ARGV\[1\]/); // the header documents keys and arguments
  });

  it('writes the batch trace context once per entry, and none when there is none', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const now = Date.now();
    const { valid } = validateBatch(callEvents('bt', 0, 120), now, {
      maxFutureSkewMs: 1000,
      maxAgeMs: 60_000,
    });
    const chunks = repo.plan('carrier-a', valid);
    await repo.execute('carrier-a', chunks.slice(0, 1), tp);
    await repo.execute('carrier-a', chunks.slice(1));
    const raw = [];
    for (let p = 0; p < config.HANDOFF_PARTITIONS; p++)
      raw.push(...(await admin.xrange(keys.handoffStream(p), '-', '+')));
    expect(raw).toHaveLength(chunks.length);
    const traced = raw.filter(([, f]) => f.includes('t'));
    expect(traced).toHaveLength(1);
    const [, fields] = traced[0];
    expect(fields.filter((f) => f === tp)).toHaveLength(1); // once per entry, not per event
    expect(decodeHandoffEntry(fields).trace).toBe(tp);
    for (const [, f] of raw.filter((r) => r !== traced[0]))
      expect(decodeHandoffEntry(f).trace).toBeUndefined();
  });

  async function readAll(): Promise<Array<{ carrierId: string; partition: number; events: HandoffEvent[] }>> {
    const out = [];
    for (let p = 0; p < config.HANDOFF_PARTITIONS; p++) {
      const entries = await admin.xrange(keys.handoffStream(p), '-', '+');
      for (const [, fields] of entries) out.push({ ...decodeHandoffEntry(fields), partition: p });
    }
    return out;
  }

  it('writes one entry per partition chunk, every event once, in order per call', async () => {
    const now = Date.now();
    const { valid } = validateBatch(callEvents('b1', 0, 300), now, {
      maxFutureSkewMs: 1000,
      maxAgeMs: 60_000,
    });
    expect(valid).toHaveLength(300);
    const chunks = repo.plan('carrier-a', valid);
    expect(new Set(chunks.map((c) => c.partition)).size).toBeLessThanOrEqual(4);
    expect(chunks.every((c) => c.events.length <= 50)).toBe(true);
    expect(await repo.execute('carrier-a', chunks)).toEqual({ accepted: 300, duplicates: 0 });

    const entries = await readAll();
    expect(entries).toHaveLength(chunks.length);
    const seen = entries.flatMap((e) => {
      expect(e.carrierId).toBe('carrier-a');
      for (const ev of e.events) expect(handoffPartition(ev.caller, 4)).toBe(e.partition);
      return e.events.map((ev) => ev.id);
    });
    expect(seen.sort()).toEqual(valid.map((v) => v.id).sort());
    // events of one call stay in order
    const byCall = new Map<string, string[]>();
    for (const e of entries)
      for (const ev of e.events) byCall.set(ev.call, [...(byCall.get(ev.call) ?? []), ev.type]);
    for (const types of byCall.values()) expect(types).toEqual(['ATTEMPT', 'ANSWERED', 'ENDED']);

    const p0 = handoffPartition(valid[0].caller, 4);
    const seenKey = keys.handoffSeen(
      p0,
      'carrier-a',
      Math.floor(valid[0].t / (config.INGEST_DEDUPE_BUCKET_S * 1000)),
    );
    expect(await admin.sismember(seenKey, eventFingerprint('b1-e0'))).toBe(1);
    const ttl = await admin.ttl(seenKey);
    expect(ttl).toBeGreaterThan(config.INGEST_DEDUPE_TTL_S - 10);
  });

  it('counts redelivered events as duplicates and adds nothing for them', async () => {
    const now = Date.now();
    const limits = { maxFutureSkewMs: 1000, maxAgeMs: 60_000 };
    const first = validateBatch(callEvents('b2', 0, 30), now, limits).valid;
    await repo.execute('carrier-a', repo.plan('carrier-a', first));
    const before = (await readAll()).length;
    // all old: no entry at all
    expect(await repo.execute('carrier-a', repo.plan('carrier-a', first))).toEqual({
      accepted: 0,
      duplicates: 30,
    });
    expect((await readAll()).length).toBe(before);
    // half old, half new: only the new ones are written
    const mixed = validateBatch(callEvents('b2', 15, 30), now, limits).valid;
    expect(await repo.execute('carrier-a', repo.plan('carrier-a', mixed))).toEqual({
      accepted: 15,
      duplicates: 15,
    });
    const ids = (await readAll()).flatMap((e) => e.events.map((ev) => ev.id));
    expect(ids).toHaveLength(45);
    expect(new Set(ids).size).toBe(45);
    // the entries hold exactly the new events, intact
    for (const e of await readAll()) for (const ev of e.events) expect(ev.call).toMatch(/^b2-c\d+$/);
    // the same ids from another carrier are that carrier's own events
    expect(await repo.execute('carrier-b', repo.plan('carrier-b', first))).toEqual({
      accepted: 30,
      duplicates: 0,
    });
  });

  it('keeps 8-byte fingerprints, not the ids, in the dedupe sets (bytes per event printed)', async () => {
    const now = Date.now();
    const limits = { maxFutureSkewMs: 1000, maxAgeMs: 60_000 };
    // carriers' ids are often UUIDs: 36 characters
    const events = callEvents('b5', 0, 1000, now).map((e, i) => ({
      ...e,
      eventId: `0f8fad5b-d9cb-469f-a165-${i.toString(16).padStart(12, 'c')}`,
      eventTimeMs: now,
    }));
    const valid = validateBatch(events, now, limits).valid;
    expect(valid.length).toBeGreaterThan(900); // a few ids look like clear numbers and are refused
    await repo.execute('carrier-a', repo.plan('carrier-a', valid));
    const sets = await admin.keys(`${prefix}:*:seen:*`);
    let bytes = 0;
    let members = 0;
    for (const k of sets) {
      bytes += Number(await admin.memory('USAGE', k, 'SAMPLES', '0'));
      const ms = await admin.smembersBuffer(k);
      members += ms.length;
      for (const m of ms) expect(m.length).toBe(8);
    }
    expect(members).toBe(valid.length);
    // as ids the same sets take about 80 B per event (36-byte members); fingerprints about 50
    process.stdout.write(`dedupe sets: ${(bytes / members).toFixed(1)} B per event\n`);
    expect(bytes / members).toBeLessThan(60);
    // and a redelivery of all of them is still recognised
    expect(await repo.execute('carrier-a', repo.plan('carrier-a', valid))).toEqual({
      accepted: 0,
      duplicates: valid.length,
    });
  });

  it('recognises redeliveries across event-time buckets within one chunk', async () => {
    const now = Date.now();
    const limits = { maxFutureSkewMs: 1000, maxAgeMs: 86_400_000 };
    const bucketMs = config.INGEST_DEDUPE_BUCKET_S * 1000;
    // one calling number (so one partition) across bucket boundaries: the chunk spans several buckets
    const events = callEvents('b3', 0, 12, now).map((e, i, all) => ({
      ...e,
      callId: 'b3-c',
      caller: all[0].caller,
      eventTimeMs: now - (i % 4) * bucketMs,
    }));
    const valid = validateBatch(events, now, limits).valid;
    expect(valid).toHaveLength(12);
    const chunks = repo.plan('carrier-a', valid);
    expect(chunks).toHaveLength(1);
    expect(await repo.execute('carrier-a', chunks)).toEqual({ accepted: 12, duplicates: 0 });
    const again = validateBatch(
      [...events.slice(0, 6), ...callEvents('b3new', 0, 3, now)],
      now,
      limits,
    ).valid;
    expect(await repo.execute('carrier-a', repo.plan('carrier-a', again))).toEqual({
      accepted: 3,
      duplicates: 6,
    });
    const ids = (await readAll()).flatMap((e) => e.events.map((ev) => ev.id));
    expect(ids.sort()).toEqual([...events.map((e) => e.eventId), 'b3new-e0', 'b3new-e1', 'b3new-e2'].sort());
  });
});
