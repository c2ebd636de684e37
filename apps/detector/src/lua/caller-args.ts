import { LONG_CALL_S } from '@eagle-eye/scoring';
import type { RedisKeys } from '@eagle-eye/redis';
import { CallerReply, CallerStatus, decodeCallerReply } from './caller-reply';
import type { ScriptCall } from './detector-scripts';

/** Bucket sizes of caller-batch-1.lua (and callee-event-3.lua's received-call fields), ms. */
const D = 7_200_000;
const DAY = 86_400_000;

/** One event (or read) for caller-batch-1.lua, in the fields of its header. */
export interface CallerEventArgs {
  op: 'a' | 'r';
  /** the number whose windows the event applies to or reads (the caller, or a probed callee) */
  token: string;
  t: number;
  type: string;
  callFp: string;
  counterpartFp: string;
  talkS: number;
  shortCallS: number;
  minTalkS: number;
  carrierId: string;
  region: string;
  /** the calling handset's fingerprint, '' when the event names none */
  device?: string;
}

/** What caller-batch-1.lua takes once per call. */
export interface CallerBatchOptions {
  latenessMs: number;
  /** TTL of the day's distinct-callee HyperLogLog, seconds */
  windowTtlS: number;
  familiarTtlS: number;
  /** TTL of the windows hash, which keeps the 7-day buckets, seconds */
  historyTtlS: number;
  /** talk seconds from which an ended call counts as long; LONG_CALL_S when not given */
  longCallS?: number;
  /** TTL of a handset's SIM HyperLogLog, seconds */
  simTtlS: number;
}

/** Where an added event's (or handset operation's) reply will be: script call, then position. */
export interface BatchRef {
  call: number;
  index: number;
}

/** Events per script call at most: a bigger group is split into several calls, in order. */
const MAX_PER_CALL = 1000;

interface Chunk {
  stem: string;
  events: (string | number)[];
  ts: number[];
  devices: string[];
}

/**
 * Collects a round's caller events and handset operations by key group and builds one
 * caller-batch-1.lua call per group (per MAX_PER_CALL events). Events of one group keep the
 * order they were added in, so one number's events apply in event-time order.
 */
export class CallerBatch {
  private readonly chunks: Chunk[] = [];
  /** group -> index of its open chunk in `chunks` */
  private readonly open = new Map<number, number>();

  constructor(
    private readonly keys: RedisKeys,
    private readonly opts: CallerBatchOptions,
  ) {}

  get size(): number {
    return this.chunks.length;
  }

  add(e: CallerEventArgs): BatchRef {
    const call = this.chunkOf(this.keys.keyGroup(e.token));
    const c = this.chunks[call];
    c.ts.push(e.t);
    c.events.push(
      e.op,
      e.token,
      e.t,
      e.type,
      e.callFp,
      e.counterpartFp,
      e.talkS,
      e.shortCallS,
      e.minTalkS,
      e.carrierId,
      e.region,
      e.device ?? '',
    );
    return { call, index: c.ts.length - 1 };
  }

  /** Adds `sim` (a caller fingerprint; '' only reads) to handset `device`'s distinct SIMs. */
  addDevice(device: string, sim: string): BatchRef {
    const call = this.chunkOf(this.keys.keyGroup(device));
    const c = this.chunks[call];
    c.devices.push(device, sim);
    return { call, index: c.devices.length / 2 - 1 };
  }

  calls(): ScriptCall[] {
    const o = this.opts;
    return this.chunks.map((c) => ({
      script: 'caller-batch' as const,
      keys: [c.stem],
      args: [
        o.latenessMs,
        o.windowTtlS,
        o.familiarTtlS,
        o.historyTtlS,
        o.longCallS ?? LONG_CALL_S,
        o.simTtlS,
        c.ts.length,
        c.devices.length / 2,
        ...c.events,
        ...c.devices,
      ],
    }));
  }

  /** Decodes the replies of `calls()`, in its order. */
  decode(replies: unknown[]): CallerBatchReplies {
    return new CallerBatchReplies(
      replies.map((r, i) => {
        const c = this.chunks[i];
        const b = r as Buffer;
        const events: CallerReply[] = [];
        let o = 0;
        for (const t of c.ts) {
          const [reply, next] = decodeCallerReply(b, o, t);
          events.push(reply);
          o = next;
        }
        const sims: number[] = [];
        for (let k = 0; k < c.devices.length / 2; k++) sims.push(b.readDoubleLE(o + 8 * k));
        if (o + 8 * sims.length !== b.length)
          throw new Error(`caller-batch reply of ${b.length} bytes, expected ${o + 8 * sims.length}`);
        return { events, sims };
      }),
    );
  }

  private chunkOf(group: number): number {
    const at = this.open.get(group);
    if (at !== undefined && this.chunks[at].ts.length + this.chunks[at].devices.length / 2 < MAX_PER_CALL)
      return at;
    this.chunks.push({ stem: this.keys.groupStem(group), events: [], ts: [], devices: [] });
    this.open.set(group, this.chunks.length - 1);
    return this.chunks.length - 1;
  }
}

export class CallerBatchReplies {
  constructor(private readonly byCall: { events: CallerReply[]; sims: number[] }[]) {}

  event(ref: BatchRef): CallerReply {
    return this.byCall[ref.call].events[ref.index];
  }

  sims(ref: BatchRef): number {
    return this.byCall[ref.call].sims[ref.index];
  }
}

/** Runs one event (or read) through caller-batch-1.lua on its own: tests and tools. */
export function singleCallerCall(
  keys: RedisKeys,
  opts: CallerBatchOptions,
  e: CallerEventArgs,
): { call: ScriptCall; decode: (reply: unknown) => CallerReply } {
  const b = new CallerBatch(keys, opts);
  const ref = b.add(e);
  return { call: b.calls()[0], decode: (reply) => b.decode([reply]).event(ref) };
}

export { CallerStatus };

/**
 * ARGV[15..16] of callee-event-3.lua for event time `t`: the 2-hour bucket index and the UTC day,
 * as digits (the script prefixes them with its field letters).
 */
export function receivedBucketArgs(t: number): [string, string] {
  return [String(Math.floor(t / D)), String(Math.floor(t / DAY))];
}
