/**
 * What the detector knows about a calling number at one moment: its caller-side windows in event
 * time, as caller-batch-1.lua keeps them in Redis and as the offline reference (reference-windows.ts)
 * recomputes them from the same events for training. One definition for both.
 *
 * Buckets: 2-minute (10-minute window), 10-minute (1-hour window), 2-hour (24-hour window) and UTC
 * day (7-day window: the event's day and the six before it). A bucket counts while any part of it
 * lies inside its window.
 *
 * Counting rules (per event of a call, each applied once per call thanks to the replay guard):
 * - ATTEMPT: attempts +1; `distinct*` +1 when the callee is new for the number's UTC day (a
 *   HyperLogLog per day); `newEver*` +1 when the number never called that callee before (within
 *   the familiarity TTL).
 * - ANSWERED: answered +1.
 * - ENDED with talk > 0: ended +1, talk seconds added, short +1 when talk < shortCallS, long +1
 *   when talk >= longCallS.
 * - A call the number RECEIVED, at its end with talk > 0 (the callee script, on the callee's own
 *   windows): `in*` +1, and `calledBack*` +1 when the number had called that caller before.
 */
export interface CallerWindows {
  /** event time the windows were read at */
  at: number;
  firstSeen: number;
  attempts10m: number;
  attempts1h: number;
  answered1h: number;
  shortAnswered1h: number;
  distinct1h: number;
  talk1h: number;
  ended1h: number;
  attempts24h: number;
  answered24h: number;
  distinct24h: number;
  /** callees this number had never called before (familiarity TTL), in 24 hours */
  newEver24h: number;
  talk24h: number;
  ended24h: number;
  short24h: number;
  long24h: number;
  /** 2-hour buckets of the 24-hour window with at least one attempt */
  slots24h: number;
  attempts7d: number;
  answered7d: number;
  /** sum over the 7 days of each day's distinct callees */
  distinct7d: number;
  newEver7d: number;
  talk7d: number;
  ended7d: number;
  /** days of the 7-day window with at least one attempt */
  days7d: number;
  /** answered calls this number received (counted at their end, with talk > 0) */
  in24h: number;
  /** of those, calls from numbers it had called before: people who called back */
  calledBack24h: number;
  in7d: number;
  calledBack7d: number;
  /** handsets the number has called from while its windows live (up to 16) */
  handsets: number;
  /** list mirror entries `list|expiresAtMs|reason`, global and the carrier's */
  listGlobal: string;
  listCarrier: string;
  distinctRegions: number;
  region: string;
}

/** Windows of a number nothing is known about (all counters 0). */
export function emptyWindows(at: number): CallerWindows {
  return {
    at,
    firstSeen: 0,
    attempts10m: 0,
    attempts1h: 0,
    answered1h: 0,
    shortAnswered1h: 0,
    distinct1h: 0,
    talk1h: 0,
    ended1h: 0,
    attempts24h: 0,
    answered24h: 0,
    distinct24h: 0,
    newEver24h: 0,
    talk24h: 0,
    ended24h: 0,
    short24h: 0,
    long24h: 0,
    slots24h: 0,
    attempts7d: 0,
    answered7d: 0,
    distinct7d: 0,
    newEver7d: 0,
    talk7d: 0,
    ended7d: 0,
    days7d: 0,
    in24h: 0,
    calledBack24h: 0,
    in7d: 0,
    calledBack7d: 0,
    handsets: 0,
    listGlobal: '',
    listCarrier: '',
    distinctRegions: 0,
    region: '',
  };
}

/** Talk seconds from which an ended call counts as long (`long24h`; caller-batch-1.lua ARGV[5]). */
export const LONG_CALL_S = 180;

/** Window lengths and bucket sizes, ms. */
export const WINDOW = {
  bucket10m: 120_000,
  bucket1h: 600_000,
  bucket24h: 7_200_000,
  day: 86_400_000,
  tenMinutes: 600_000,
  hour: 3_600_000,
  days7: 7,
} as const;
