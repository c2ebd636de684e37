import { fnv1a32, Severity } from '@eagle-eye/contracts';
import { perNodePipeline, PerNodePipeline, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { LONG_CALL_S } from '@eagle-eye/scoring';
import {
  BatchRef,
  CalleeBatch,
  CalleeBatchReplies,
  CalleeEventArgs,
  CallerBatch,
  CallerBatchReplies,
  CallerEventArgs,
} from '../lua/caller-args';
import { DetectorScripts, ScriptCall, ScriptReply } from '../lua/detector-scripts';
import { CallerReply } from '../lua/caller-reply';
import type { CallerStates } from './caller-states';

/** What the window scripts take besides the events: lateness, TTLs, the due sets. */
export interface WindowsOptions {
  latenessMs: number;
  /** TTL of the script windows' per-day distinct-callee HyperLogLogs and the callee-side keys, seconds */
  windowTtlS: number;
  /** TTL of a number's windows hash, which keeps 7 days of day buckets, seconds */
  historyTtlS: number;
  familiarTtlS: number;
  dueShards: number;
  dueLeaseMs: number;
}

/** alert-claim-1.lua's answer. */
export const ClaimStatus = {
  /** no such call in progress (live claims only) */
  NoCall: -1,
  /** nothing to raise: the call is at this level already, or the pair is cooling down */
  Nothing: 0,
  /** claimed: raise it */
  Claimed: 1,
  /** this exact alert was claimed before: re-adding its job is safe (deterministic job id) */
  ClaimedBefore: 2,
} as const;
export type ClaimStatus = (typeof ClaimStatus)[keyof typeof ClaimStatus];

/** Whether the claim lets the alert's job be added (a new claim, or the same one made before). */
export function mayRaise(s: ClaimStatus): boolean {
  return s === ClaimStatus.Claimed || s === ClaimStatus.ClaimedBefore;
}

const LEVEL: Record<Severity, number> = { warning: 1, critical: 2 };

/** One victim alert to claim (alert-claim-1.lua, on the victim's state key). */
export interface AlertClaim {
  /** the number whose state key holds the call (the victim) */
  victim: string;
  callFp: string;
  /** the suspect's fingerprint (the pair's cooldown) */
  suspectFp: string;
  severity: Severity;
  /** duration step reached, seconds */
  stepS: number;
  /** event time of the claim, epoch ms */
  t: number;
  /** the pair's cooldown, ms */
  cooldownMs: number;
  /** 'live': the call is in progress; 'post': it has ended */
  mode: 'live' | 'post';
  /** a call-back's call, registered on the victim's state key right before the claim (same pipeline) */
  register?: CalleeEventArgs;
}

/** A call in progress that has duration-step checks (its member in a due set). */
export interface DueCall {
  carrierId: string;
  callee: string;
  caller: string;
  callId: string;
}

/** A due check claimed by claimDue (leased to this replica). */
export interface DueCheck extends DueCall {
  shard: number;
  member: string;
  /** when it was due, event time, epoch ms */
  dueAt: number;
}

/**
 * Reads of numbers' caller windows at a time: a CallerBatch of op 'r' events (caller-batch-1.lua),
 * or CallerReads of the windows kept by the detector (DETECTOR_CALLER_WINDOWS=node).
 */
export interface CallerReadBatch {
  add(e: CallerEventArgs): BatchRef;
  calls(): ScriptCall[];
  decode(replies: unknown[]): { event(ref: BatchRef): CallerReply };
}

/** The caller reads that ride in the callee batch's round trip, and both replies. */
export interface CalleeRound {
  callees: CalleeBatchReplies;
  callerReads: { event(ref: BatchRef): CallerReply };
}

/**
 * The detector's Redis state: the number windows, call state and due sets, one typed method per
 * script (caller batch, callee batch, alert claim, due claim), plus the due-set bookkeeping and
 * the start of observation. Replies come back decoded into named fields.
 */
export class WindowsRepository {
  /** see observingSince */
  private observing: number | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly scripts: DetectorScripts,
    private readonly opts: WindowsOptions,
    /** the caller windows kept by the detector (DETECTOR_CALLER_WINDOWS=node), else null */
    readonly callerStates: CallerStates | null = null,
  ) {}

  get latenessMs(): number {
    return this.opts.latenessMs;
  }

  /** Reads of numbers' caller windows, wherever they are kept. */
  newCallerReads(): CallerReadBatch {
    return this.callerStates ? this.callerStates.reads() : this.newCallerBatch();
  }

  /** Script calls in one round trip (per master), replies in order. */
  runScripts(calls: ScriptCall[]): Promise<ScriptReply[]> {
    return this.scripts.run(calls);
  }

  /** A round's caller-batch-1.lua calls: every key group's events in one call. */
  newCallerBatch(): CallerBatch {
    return new CallerBatch(this.keys, {
      latenessMs: this.opts.latenessMs,
      windowTtlS: this.opts.windowTtlS,
      historyTtlS: this.opts.historyTtlS,
      familiarTtlS: this.opts.familiarTtlS,
      longCallS: LONG_CALL_S,
      simTtlS: 7 * 86400,
    });
  }

  /** A round's callee-batch-1.lua calls: every key group's answered and ended calls in one call. */
  newCalleeBatch(): CalleeBatch {
    return new CalleeBatch(this.keys, {
      latenessMs: this.opts.latenessMs,
      stateTtlS: this.opts.windowTtlS,
      familiarTtlS: this.opts.familiarTtlS,
      historyTtlS: this.opts.historyTtlS,
    });
  }

  /** caller-batch-1.lua: applies (or reads) the batch's events, one round trip. */
  async runCallers(batch: CallerBatch): Promise<CallerBatchReplies> {
    return batch.decode(await this.scripts.run(batch.calls()));
  }

  /**
   * callee-batch-1.lua, then `callerReads`' caller-batch reads after the callee writes, in one
   * round trip.
   */
  async runCallees(callees: CalleeBatch, callerReads: CallerReadBatch): Promise<CalleeRound> {
    const calleeCalls = callees.calls();
    const replies = await this.scripts.run([...calleeCalls, ...callerReads.calls()]);
    return {
      callees: callees.decode(replies.slice(0, calleeCalls.length)),
      callerReads: callerReads.decode(replies.slice(calleeCalls.length)),
    };
  }

  /** callee-batch-1.lua op 'c': received calls counted in the callees' windows, one round trip. */
  async countReceived(counts: CalleeEventArgs[]): Promise<void> {
    const batch = this.newCalleeBatch();
    for (const c of counts) batch.add(c);
    await this.scripts.run(batch.calls());
  }

  /** alert-claim-1.lua for each claim (a call-back's registration first), in order, one round trip. */
  async claimAlerts(claims: AlertClaim[]): Promise<ClaimStatus[]> {
    const calls: ScriptCall[] = [];
    const at: number[] = [];
    for (const c of claims) {
      if (c.register) {
        const register = this.newCalleeBatch();
        register.add(c.register);
        calls.push(...register.calls());
      }
      at.push(calls.length);
      calls.push({
        script: 'alert-claim',
        keys: [this.keys.numCallee(c.victim)],
        args: [
          c.callFp,
          c.suspectFp,
          LEVEL[c.severity],
          c.stepS,
          c.t,
          c.cooldownMs,
          c.mode,
          this.opts.windowTtlS,
        ],
      });
    }
    const replies = await this.scripts.run(calls);
    return at.map((i) => Number(replies[i]) as ClaimStatus);
  }

  /** due-claim-1.lua on every due shard: up to `limit` checks per shard due at `now`, leased. */
  async claimDue(now: number, limit: number): Promise<DueCheck[]> {
    const shards = Array.from({ length: this.opts.dueShards }, (_, s) => s);
    const claimed = await this.scripts.run(
      shards.map((s) => ({
        script: 'due-claim' as const,
        keys: [this.keys.detectorDue(s)],
        args: [now, this.opts.dueLeaseMs, limit],
      })),
    );
    const checks: DueCheck[] = [];
    claimed.forEach((r, shard) => {
      const flat = r as string[];
      for (let i = 0; i < flat.length; i += 2) {
        const member = flat[i];
        const [carrierId, callee, caller, callId] = member.split('\t');
        checks.push({ shard, member, dueAt: Number(flat[i + 1]), carrierId, callee, caller, callId });
      }
    });
    return checks;
  }

  /** Due-set changes of a round, sent together by DueWrites.exec. */
  dueWrites(): DueWrites {
    return new DueWrites(perNodePipeline(this.redis), this.keys, this.opts.dueShards);
  }

  /**
   * When this deployment began observing, event time: the first batch any replica applies fixes
   * it (at `first`, that batch's first event time) for all of them. Read once, then remembered.
   */
  async observingSince(first: number): Promise<number> {
    if (this.observing === null) {
      const key = this.keys.detectorObservingSince();
      await this.redis.set(key, String(first), 'NX');
      this.observing = Number(await this.redis.get(key)) || first;
    }
    return this.observing;
  }

  /** The start of observation once a batch has read it (observingSince), else 0. */
  get observingSinceKnown(): number {
    return this.observing ?? 0;
  }
}

/** A round's due-set changes (ZADD/ZREM), one pipeline per master. */
export class DueWrites {
  private ops = 0;

  constructor(
    private readonly p: PerNodePipeline,
    private readonly keys: RedisKeys,
    private readonly shards: number,
  ) {}

  /** The first check of an answered call (NX: a redelivered answer keeps the one it has). */
  schedule(call: DueCall, dueAt: number): void {
    this.p.zadd(this.key(call), 'NX', dueAt, dueMember(call));
    this.ops++;
  }

  /** An ended call's checks are over. */
  cancel(call: DueCall): void {
    this.p.zrem(this.key(call), dueMember(call));
    this.ops++;
  }

  /** A claimed check's next one (XX: only while the call is still scheduled). */
  reschedule(check: DueCheck, dueAt: number): void {
    this.p.zadd(this.keys.detectorDue(check.shard), 'XX', dueAt, check.member);
    this.ops++;
  }

  /** A claimed check that has no next one. */
  done(check: DueCheck): void {
    this.p.zrem(this.keys.detectorDue(check.shard), check.member);
    this.ops++;
  }

  async exec(): Promise<void> {
    if (this.ops) await this.p.exec();
  }

  /** The due set of the call's callee. */
  private key(call: DueCall): string {
    return this.keys.detectorDue(fnv1a32(call.callee) % this.shards);
  }
}

/** The call's member in its due set (claimDue splits it again). */
function dueMember(c: DueCall): string {
  return `${c.carrierId}\t${c.callee}\t${c.caller}\t${c.callId}`;
}
