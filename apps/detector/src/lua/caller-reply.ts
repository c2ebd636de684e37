import type { CallerWindows } from '@eagle-eye/scoring';

/**
 * Positions in caller-event-4.lua's reply (0-based, as ioredis returns it; the script's header
 * lists them 1-based). A late event's reply is only { status, wm }; the end of an unanswered call
 * returns every window sum as 0.
 */
export const REPLY = {
  status: 0,
  wm: 1,
  firstSeen: 2,
  attempts10m: 3,
  attempts1h: 4,
  answered1h: 5,
  shortAnswered1h: 6,
  distinct1h: 7,
  talk1h: 8,
  ended1h: 9,
  attempts24h: 10,
  answered24h: 11,
  distinct24h: 12,
  listGlobal: 13,
  listCarrier: 14,
  distinctRegions: 15,
  region: 16,
  mask: 17,
  newEver24h: 18,
  talk24h: 19,
  ended24h: 20,
  short24h: 21,
  long24h: 22,
  slots24h: 23,
  attempts7d: 24,
  answered7d: 25,
  distinct7d: 26,
  newEver7d: 27,
  talk7d: 28,
  ended7d: 29,
  days7d: 30,
  in24h: 31,
  calledBack24h: 32,
  in7d: 33,
  calledBack7d: 34,
  handsets: 35,
} as const;

/** Length of a full reply. */
export const REPLY_LENGTH = 36;

/** Status of a reply: 0 applied, 1 duplicate, 2 late, 3 read. */
export function replyStatus(r: unknown[]): number {
  return Number(r[REPLY.status]);
}

/** Event types applied to the call so far (1 attempt, 2 answered, 4 ended). */
export function replyMask(r: unknown[]): number {
  return Number(r[REPLY.mask] ?? 0);
}

/**
 * The windows in a caller-event reply, read at `at` (by default the number's watermark, where the
 * script read them when it applied an event). Missing positions (a late event's short reply, a
 * reply of an earlier script version) read as 0 or ''.
 */
export function toWindows(r: unknown[], at?: number): CallerWindows {
  const n = (i: number) => Number(r[i] ?? 0);
  return {
    at: at ?? n(REPLY.wm),
    firstSeen: n(REPLY.firstSeen),
    attempts10m: n(REPLY.attempts10m),
    attempts1h: n(REPLY.attempts1h),
    answered1h: n(REPLY.answered1h),
    shortAnswered1h: n(REPLY.shortAnswered1h),
    distinct1h: n(REPLY.distinct1h),
    talk1h: n(REPLY.talk1h),
    ended1h: n(REPLY.ended1h),
    attempts24h: n(REPLY.attempts24h),
    answered24h: n(REPLY.answered24h),
    distinct24h: n(REPLY.distinct24h),
    newEver24h: n(REPLY.newEver24h),
    talk24h: n(REPLY.talk24h),
    ended24h: n(REPLY.ended24h),
    short24h: n(REPLY.short24h),
    long24h: n(REPLY.long24h),
    slots24h: n(REPLY.slots24h),
    attempts7d: n(REPLY.attempts7d),
    answered7d: n(REPLY.answered7d),
    distinct7d: n(REPLY.distinct7d),
    newEver7d: n(REPLY.newEver7d),
    talk7d: n(REPLY.talk7d),
    ended7d: n(REPLY.ended7d),
    days7d: n(REPLY.days7d),
    in24h: n(REPLY.in24h),
    calledBack24h: n(REPLY.calledBack24h),
    in7d: n(REPLY.in7d),
    calledBack7d: n(REPLY.calledBack7d),
    handsets: n(REPLY.handsets),
    listGlobal: String(r[REPLY.listGlobal] ?? ''),
    listCarrier: String(r[REPLY.listCarrier] ?? ''),
    distinctRegions: n(REPLY.distinctRegions),
    region: String(r[REPLY.region] ?? ''),
  };
}
