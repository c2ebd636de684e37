import { endianness } from 'node:os';
import type { CallerWindows } from '@eagle-eye/scoring';

/**
 * Status of a caller-batch event reply: applied; duplicate (the call already had this event type, nothing
 * changed); late (older than the number's watermark minus lateness, dropped); read (op 'r').
 */
export const CallerStatus = { Applied: 0, Duplicate: 1, Late: 2, Read: 3 } as const;
export type CallerStatus = (typeof CallerStatus)[keyof typeof CallerStatus];

/** The event types a call has had applied so far, as bits of CallerReply.mask. */
export const CallMask = { Attempt: 1, Answered: 2, Ended: 4 } as const;

/** One event's reply from caller-batch-1.lua, decoded. */
export interface CallerReply {
  status: CallerStatus;
  /** the number's watermark (newest event time applied) */
  wm: number;
  /** event types applied to the call so far (CallMask bits) */
  mask: number;
  /** read where decodeCallerReply says; every sum 0 for a late event and the end of an unanswered call */
  windows: CallerWindows;
}

/** The doubles at the start of one event's reply, in the script's order (its header lists them). */
const NUMBERS = 33;

/**
 * One reply's doubles, copied with one memcpy and read as a typed array: replies start at any byte
 * (strings lie between them), and 33 readDoubleLE calls cost more than the copy. Float64Array
 * reads the machine's byte order: only on a little-endian machine (the script writes LE).
 */
const scratch = new Float64Array(NUMBERS);
const scratchBytes = new Uint8Array(scratch.buffer);
const LITTLE_ENDIAN = endianness() === 'LE';

/** The offset of the reply after the one at byte `o` (its doubles, then its three strings). */
export function skipCallerReply(b: Buffer, o: number): number {
  if (b.length < o + NUMBERS * 8 + 6) throw new Error(`caller-batch reply of ${b.length} bytes at ${o}`);
  o += NUMBERS * 8;
  for (let k = 0; k < 3; k++) o += 2 + b.readUInt16LE(o);
  if (o > b.length) throw new Error(`caller-batch reply of ${b.length} bytes, a string past its end`);
  return o;
}

/** Double `i` (the order of decodeCallerReply) of the reply at byte `o`. */
export function callerReplyNumber(b: Buffer, o: number, i: number): number {
  return b.readDoubleLE(o + i * 8);
}

/** The reply's doubles at byte `o` (in a scratch array: read them before the next call). */
function doublesAt(b: Buffer, o: number): Float64Array {
  if (LITTLE_ENDIAN) b.copy(scratchBytes, 0, o, o + NUMBERS * 8);
  else for (let i = 0; i < NUMBERS; i++) scratch[i] = b.readDoubleLE(o + i * 8);
  return scratch;
}

/**
 * Decodes one event's reply at byte `o` of caller-batch-1.lua's binary reply: 33 little-endian
 * doubles, then three strings each after a 16-bit length (lists_global, lists_carrier, region).
 * Returns the reply and the offset of the next one. An applied (or duplicate, or late) event's
 * windows are read at the number's watermark, where the script read them; a read (op 'r') at
 * `t`, the time it asked for.
 */
export function decodeCallerReply(b: Buffer, o: number, t: number): [CallerReply, number] {
  if (b.length < o + NUMBERS * 8 + 6) throw new Error(`caller-batch reply of ${b.length} bytes at ${o}`);
  const base = o;
  const d = doublesAt(b, base);
  const n = (i: number) => d[i];
  o += NUMBERS * 8;
  const s = (): string => {
    const len = b.readUInt16LE(o);
    const v = b.toString('utf8', o + 2, o + 2 + len);
    o += 2 + len;
    return v;
  };
  const status = n(0) as CallerStatus;
  const wm = n(1);
  const windows: CallerWindows = {
    at: status === CallerStatus.Read ? t : wm,
    firstSeen: n(2),
    attempts10m: n(3),
    attempts1h: n(4),
    answered1h: n(5),
    shortAnswered1h: n(6),
    distinct1h: n(7),
    talk1h: n(8),
    ended1h: n(9),
    attempts24h: n(10),
    answered24h: n(11),
    distinct24h: n(12),
    newEver24h: n(15),
    talk24h: n(16),
    ended24h: n(17),
    short24h: n(18),
    long24h: n(19),
    slots24h: n(20),
    attempts7d: n(21),
    answered7d: n(22),
    distinct7d: n(23),
    newEver7d: n(24),
    talk7d: n(25),
    ended7d: n(26),
    days7d: n(27),
    in24h: n(28),
    calledBack24h: n(29),
    in7d: n(30),
    calledBack7d: n(31),
    handsets: n(32),
    listGlobal: s(),
    listCarrier: s(),
    distinctRegions: n(13),
    region: s(),
  };
  return [{ status, wm, mask: n(14), windows }, o];
}
