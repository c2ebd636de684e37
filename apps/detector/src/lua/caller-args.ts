import { LONG_CALL_S } from '@eagle-eye/scoring';
import type { RedisKeys } from '@eagle-eye/redis';
import {
  CallerReply,
  callerReplyNumber,
  CallerStatus,
  decodeCallerReply,
  skipCallerReply,
} from './caller-reply';
import type { ScriptCall } from './detector-scripts';

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

/**
 * Where an added event's (or handset operation's) reply will be: script call and position in one
 * number (never 0), so a round's references are plain numbers, not an object per event.
 */
export type BatchRef = number;

/** Events per script call at most: a bigger group is split into several calls, in order. */
const MAX_PER_CALL = 1000;
/** Positions per call in a BatchRef (> MAX_PER_CALL) */
const REF_SPAN = 1024;

function batchRef(call: number, index: number): BatchRef {
  return call * REF_SPAN + index + 1;
}

function refCall(ref: BatchRef): number {
  return Math.floor((ref - 1) / REF_SPAN);
}

function refIndex(ref: BatchRef): number {
  return (ref - 1) % REF_SPAN;
}

/**
 * A round's script calls, one per key group (per MAX_PER_CALL items): the part the caller and
 * callee batches share. Items of one group keep the order they were added in.
 */
class GroupChunks<C extends { stem: string; items: number }> {
  readonly chunks: C[] = [];
  /** group -> index of its open chunk in `chunks` */
  private readonly open = new Map<number, number>();

  constructor(
    private readonly keys: RedisKeys,
    private readonly make: (stem: string) => C,
  ) {}

  /** The index of the chunk that takes the next item of `token`'s group. */
  of(token: string): number {
    const group = this.keys.keyGroup(token);
    const at = this.open.get(group);
    if (at !== undefined && this.chunks[at].items < MAX_PER_CALL) return at;
    this.chunks.push(this.make(this.keys.groupStem(group)));
    this.open.set(group, this.chunks.length - 1);
    return this.chunks.length - 1;
  }
}

interface Chunk {
  stem: string;
  items: number;
  /** the script's ARGV: its header (counts filled in by calls()), then the events */
  args: (string | number)[];
  ts: number[];
  devices: string[];
}

/**
 * Collects a round's caller events and handset operations by key group and builds one
 * caller-batch-1.lua call per group (per MAX_PER_CALL events). Events of one group keep the
 * order they were added in, so one number's events apply in event-time order.
 */
export class CallerBatch {
  private readonly groups: GroupChunks<Chunk>;

  constructor(
    keys: RedisKeys,
    private readonly opts: CallerBatchOptions,
  ) {
    const o = opts;
    this.groups = new GroupChunks(keys, (stem) => ({
      stem,
      items: 0,
      args: [
        o.latenessMs,
        o.windowTtlS,
        o.familiarTtlS,
        o.historyTtlS,
        o.longCallS ?? LONG_CALL_S,
        o.simTtlS,
        0,
        0,
      ],
      ts: [],
      devices: [],
    }));
  }

  private get chunks(): Chunk[] {
    return this.groups.chunks;
  }

  get size(): number {
    return this.chunks.length;
  }

  add(e: CallerEventArgs): BatchRef {
    if (this.taken) throw new Error('the batch has handed over its calls already');
    const call = this.groups.of(e.token);
    const c = this.chunks[call];
    c.items++;
    c.ts.push(e.t);
    c.args.push(
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
    return batchRef(call, c.ts.length - 1);
  }

  /** Adds `sim` (a caller fingerprint; '' only reads) to handset `device`'s distinct SIMs. */
  addDevice(device: string, sim: string): BatchRef {
    if (this.taken) throw new Error('the batch has handed over its calls already');
    const call = this.groups.of(device);
    const c = this.chunks[call];
    c.items++;
    c.devices.push(device, sim);
    return batchRef(call, c.devices.length / 2 - 1);
  }

  /**
   * Hands over the round's script calls, once: each call takes its chunk's ARGV as it is (no copy)
   * and the batch keeps none of it, so a round's ~12 arguments per event are garbage as soon as
   * they are sent rather than surviving the round trip (and a scavenge or two) with the batch.
   */
  calls(): ScriptCall[] {
    this.take();
    return this.chunks.map((c) => {
      c.args[6] = c.ts.length;
      c.args[7] = c.devices.length / 2;
      for (const d of c.devices) c.args.push(d);
      const call: ScriptCall = { script: 'caller-batch', keys: [c.stem], args: c.args };
      c.args = [];
      return call;
    });
  }

  private taken = false;

  /** calls() may run once, and nothing is added after it. */
  private take(): void {
    if (this.taken) throw new Error('the batch has handed over its calls already');
    this.taken = true;
  }

  /**
   * The replies of `calls()`, in its order. Only where each event's reply starts is read here: an
   * event's windows are decoded when asked for (a late event and the end of an unanswered call,
   * much of the traffic, are never scored).
   */
  decode(replies: unknown[]): CallerBatchReplies {
    return new CallerBatchReplies(
      replies.map((r, i) => {
        const c = this.chunks[i];
        const b = r as Buffer;
        const at = new Array<number>(c.ts.length);
        let o = 0;
        for (let k = 0; k < c.ts.length; k++) {
          at[k] = o;
          o = skipCallerReply(b, o);
        }
        const sims: number[] = [];
        for (let k = 0; k < c.devices.length / 2; k++) sims.push(b.readDoubleLE(o + 8 * k));
        if (o + 8 * sims.length !== b.length)
          throw new Error(`caller-batch reply of ${b.length} bytes, expected ${o + 8 * sims.length}`);
        return { reply: b, at, ts: c.ts, sims };
      }),
    );
  }
}

interface CallReplies {
  reply: Buffer;
  /** byte offset of each event's reply */
  at: number[];
  /** each event's time (a read's windows are at that time) */
  ts: number[];
  sims: number[];
}

export class CallerBatchReplies {
  constructor(private readonly byCall: CallReplies[]) {}

  /** The event's status (CallerStatus), without decoding its windows. */
  status(ref: BatchRef): CallerStatus {
    const c = this.byCall[refCall(ref)];
    return callerReplyNumber(c.reply, c.at[refIndex(ref)], 0) as CallerStatus;
  }

  /** The event types applied to the event's call (1 attempt, 2 answered, 4 ended), without its windows. */
  mask(ref: BatchRef): number {
    const c = this.byCall[refCall(ref)];
    return callerReplyNumber(c.reply, c.at[refIndex(ref)], 14);
  }

  event(ref: BatchRef): CallerReply {
    const c = this.byCall[refCall(ref)];
    const i = refIndex(ref);
    return decodeCallerReply(c.reply, c.at[i], c.ts[i])[0];
  }

  sims(ref: BatchRef): number {
    return this.byCall[refCall(ref)].sims[refIndex(ref)];
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

/** One answered or ended call (or a read) for callee-batch-1.lua, in the fields of its header. */
export interface CalleeEventArgs {
  /** 'a' apply, 'r' read, 'c' count a received call only (its caller's windows were written since) */
  op: 'a' | 'r' | 'c';
  /** the called number */
  token: string;
  t: number;
  type: 'N' | 'E';
  callFp: string;
  callerFp: string;
  talkS: number;
  /** answered: the caller's own score makes it a suspect */
  suspect: boolean;
  /**
   * ended: the caller is watched, so that an answer arriving after this end would still raise its
   * alert; the script then keeps the end when the answer was not applied (callee-batch-1.lua `z`)
   */
  keepEnd: boolean;
  /** call context JSON (answered), '' otherwise */
  ctx: string;
  ringMs: number;
  minTalkS: number;
  /** count the received call in the callee's own windows (an end with talk, applied the first time) */
  countReceived: boolean;
  /** op 'c': the callee had called the caller before (op 'a''s familiarity bit 1): a call back */
  back?: boolean;
}

/** What callee-batch-1.lua takes once per call. */
export interface CalleeBatchOptions {
  latenessMs: number;
  /** TTL of the callee state hash, seconds */
  stateTtlS: number;
  familiarTtlS: number;
  /** TTL of the windows hash (the received-call counters), seconds */
  historyTtlS: number;
}

/** Status of a callee-batch event reply: applied, duplicate (nothing changed), read (op 'r'). */
export const CalleeStatus = { Applied: 0, Duplicate: 1, Read: 3 } as const;
export type CalleeStatus = (typeof CalleeStatus)[keyof typeof CalleeStatus];

/** callee-batch-1.lua's reply for one event. */
export interface CalleeReply {
  status: CalleeStatus;
  /** 1 the callee called the caller before, 2 they talked before */
  familiar: number;
  /** distinct suspect callers in the ring window */
  suspectCallers: number;
  /** the call's stored context, '' when it is not in progress */
  ctx: string;
  level: number;
  step: number;
  answeredAt: number;
  ended: boolean;
  talkS: number;
}

/** The replies of a callee batch: each added event's, by its reference. */
export type CalleeBatchReplies = (ref: BatchRef) => CalleeReply;

interface CalleeChunk {
  stem: string;
  items: number;
  events: (string | number)[];
}

/** The callee side's batch: one callee-batch-1.lua call per key group of the called numbers. */
export class CalleeBatch {
  private readonly groups: GroupChunks<CalleeChunk>;

  constructor(
    keys: RedisKeys,
    private readonly opts: CalleeBatchOptions,
  ) {
    this.groups = new GroupChunks(keys, (stem) => ({ stem, items: 0, events: [] }));
  }

  get size(): number {
    return this.groups.chunks.length;
  }

  add(e: CalleeEventArgs): BatchRef {
    const call = this.groups.of(e.token);
    const c = this.groups.chunks[call];
    c.events.push(
      e.op,
      e.token,
      e.t,
      e.type,
      e.callFp,
      e.callerFp,
      e.talkS,
      (e.op === 'c' ? e.back : e.type === 'E' ? e.keepEnd : e.suspect) ? 1 : 0,
      e.ctx,
      e.ringMs,
      e.minTalkS,
      e.countReceived ? 1 : 0,
    );
    return batchRef(call, c.items++);
  }

  calls(): ScriptCall[] {
    const o = this.opts;
    return this.groups.chunks.map((c) => ({
      script: 'callee-batch' as const,
      keys: [c.stem],
      args: [o.latenessMs, o.stateTtlS, o.familiarTtlS, o.historyTtlS, c.items, ...c.events],
    }));
  }

  /** Decodes the replies of `calls()` (one binary string each, callee-batch-1.lua), in its order. */
  decode(replies: unknown[]): CalleeBatchReplies {
    // where each event's record starts in its call's reply (the context makes them uneven)
    const starts = replies.map((r, i) => {
      const b = r as Buffer;
      const n = this.groups.chunks[i].items;
      const at = new Int32Array(n);
      let o = 0;
      for (let k = 0; k < n; k++) {
        if (o + CALLEE_RECORD > b.length) break;
        at[k] = o;
        o += CALLEE_RECORD + b.readUInt32LE(o + CALLEE_RECORD - 4);
      }
      if (o !== b.length)
        throw new Error(`callee-batch reply of ${b.length} bytes does not hold ${n} events`);
      return at;
    });
    return (ref) => {
      const b = replies[refCall(ref)] as Buffer;
      const o = starts[refCall(ref)][refIndex(ref)];
      const cl = b.readUInt32LE(o + CALLEE_RECORD - 4);
      return {
        status: b[o] as CalleeStatus,
        familiar: b[o + 1],
        suspectCallers: b.readUInt32LE(o + 2),
        level: b.readUInt16LE(o + 6),
        step: b.readInt32LE(o + 8),
        answeredAt: b.readDoubleLE(o + 12),
        ended: b[o + 20] === 1,
        talkS: b.readUInt32LE(o + 21),
        ctx: cl ? b.toString('utf8', o + CALLEE_RECORD, o + CALLEE_RECORD + cl) : '',
      };
    };
  }
}

/** Bytes of one event's record in callee-batch-1.lua's reply before its context ('<BBIHidBII'). */
const CALLEE_RECORD = 29;
