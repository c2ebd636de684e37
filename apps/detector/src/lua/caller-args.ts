import { LONG_CALL_S } from '@eagle-eye/scoring';

/** Bucket sizes and window lengths of caller-event-4.lua, ms. */
const M = 120_000;
const H = 600_000;
const D = 7_200_000;
const DAY = 86_400_000;

/**
 * The bucket-field ARGV of caller-event-4.lua for event time `t` (ARGV[14..20]): the event's own
 * 2-minute, 10-minute and 2-hour buckets, the oldest bucket of each window still counted at `t`,
 * and the UTC day. Formatting numbers is cheap here and dear inside Redis's Lua.
 */
export function bucketArgs(t: number): string[] {
  return [
    `M${Math.floor(t / M)}`,
    `H${Math.floor(t / H)}`,
    `D${Math.floor(t / D)}`,
    `M${Math.floor((t - 10 * 60_000) / M)}`,
    `H${Math.floor((t - 3_600_000) / H)}`,
    `D${Math.floor((t - DAY) / D)}`,
    String(Math.floor(t / DAY)),
  ];
}

/**
 * The day-bucket fields of caller-event-4.lua for event time `t` (ARGV[22..23]): the event's UTC
 * day `Y<day>` and the oldest day of the 7-day window read at `t` (the day and the six before it).
 */
export function dayArgs(t: number): string[] {
  const day = Math.floor(t / DAY);
  return [`Y${day}`, `Y${day - 6}`];
}

export interface CallerEventArgs {
  op: 'a' | 'r';
  t: number;
  type: string;
  callFp: string;
  counterpartFp: string;
  latenessMs: number;
  talkS: number;
  shortCallS: number;
  /** talk seconds from which an ended call counts as long; LONG_CALL_S when not given */
  longCallS?: number;
  /** TTL of the day's distinct-callee HyperLogLog (and, before history, of the windows) */
  windowTtlS: number;
  /** TTL of the windows hash, which keeps the 7-day buckets */
  historyTtlS: number;
  carrierId: string;
  region: string;
  familiarTtlS: number;
  minTalkS: number;
  /** the calling handset's fingerprint, '' when the event names none */
  device?: string;
}

/** ARGV of caller-event-4.lua, in its header's order. */
export function callerEventArgs(a: CallerEventArgs): (string | number)[] {
  return [
    a.op,
    a.t,
    a.type,
    a.callFp,
    a.counterpartFp,
    a.latenessMs,
    a.talkS,
    a.shortCallS,
    a.windowTtlS,
    a.carrierId,
    a.region,
    a.familiarTtlS,
    a.minTalkS,
    ...bucketArgs(a.t),
    a.longCallS ?? LONG_CALL_S,
    ...dayArgs(a.t),
    a.historyTtlS,
    a.device ?? '',
  ];
}

/**
 * ARGV[15..16] of callee-event-3.lua for event time `t`: the 2-hour bucket index and the UTC day,
 * as digits (the script prefixes them with its field letters).
 */
export function receivedBucketArgs(t: number): [string, string] {
  return [String(Math.floor(t / D)), String(Math.floor(t / DAY))];
}
