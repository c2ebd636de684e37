import { CallerState, CallerStateOptions } from './caller-state';
import { WINDOW } from './windows';

/**
 * Today's caller windows hash (`<stem>n:<number>:w`, written by the detector's caller-batch-1.lua
 * and, for received calls, callee-batch-1.lua; the script's header documents every field) read
 * into design B's CallerState (issue 13), so a number that has no state string yet starts from
 * its history rather than from zero when the detector switches to Node windows.
 *
 * Received calls stay in the hash (any replica counts them there): callee-batch-1.lua keeps writing `J<k>`
 * `K<k>` `I<day>` `R<day>` there and the detector reads them with `receivedCalls` and `receivedAt`;
 * the state's own received rings stay empty.
 *
 * The hash is what HGETALL returns: an object or the flat name/value array (or [name, value]
 * pairs, or a Map), names and values as Buffers (hgetallBuffer, callBuffer('HGETALL', ...)) or
 * strings. The bucket counters are binary: a string value is taken byte for byte (latin1), so a
 * hash read as UTF-8 text (plain hgetall) does not convert; the received-call integers do.
 */
export type WindowsHash =
  | Readonly<Record<string, Buffer | string>>
  | ReadonlyArray<Buffer | string>
  | ReadonlyArray<readonly [string | Buffer, Buffer | string]>
  | ReadonlyMap<string | Buffer, Buffer | string>;

/** Received answered calls of a number read at one time, named as in caller-batch-1.lua's reply. */
export interface ReceivedWindows {
  /** `J`: answered calls received in the 24 hours (2-hour buckets) = CallerWindows.in24h */
  in1440: number;
  /** `K`: of those, from numbers it had called before = CallerWindows.calledBack24h */
  back1440: number;
  /** `I`: answered calls received in the 7 days (days) = CallerWindows.in7d */
  in7d: number;
  /** `R`: of those, calls back = CallerWindows.calledBack7d */
  back7d: number;
}

/** What the conversion did not carry into the state (optional third argument of callerStateFromHash). */
export interface LegacyConversionNotes {
  /** buckets no window can read any more (older than window + lateness before wm), as housekeeping drops them */
  dropped: number;
  /** fields kept out of the state because the script could not have read them (reason after the name) */
  unmapped: string[];
}

const { bucket10m: M, bucket1h: H, bucket24h: D, day: DAY, tenMinutes, hour } = WINDOW;
const WEEK = (WINDOW.days7 - 1) * DAY;
const C_M = 77,
  C_H = 72,
  C_D = 68,
  C_Y = 89,
  C_J = 74,
  C_K = 75,
  C_I = 73,
  C_R = 82,
  C_C = 99,
  C_0 = 48,
  C_9 = 57,
  C_MINUS = 45,
  C_COLON = 58;

type Name = Buffer | string;

/** Whether the hash is given as [name, value] pairs (Object.entries, a reader's own parse). */
function isPairs(fields: WindowsHash): fields is ReadonlyArray<readonly [Name, Name]> {
  return Array.isArray(fields) && fields.length > 0 && Array.isArray(fields[0]);
}

/** Calls `fn` with each field of the hash (one pass; no copy of the names). */
function eachField(fields: WindowsHash, fn: (name: Name, value: Name) => void): void {
  if (isPairs(fields)) {
    for (const [k, v] of fields) fn(k, v);
  } else if (Array.isArray(fields)) {
    const flat = fields as ReadonlyArray<Buffer | string>;
    for (let i = 0; i + 1 < flat.length; i += 2) fn(flat[i], flat[i + 1]);
  } else if (fields instanceof Map) {
    for (const [k, v] of fields as ReadonlyMap<Name, Name>) fn(k, v);
  } else {
    const rec = fields as Readonly<Record<string, Name>>;
    for (const k in rec) fn(k, rec[k]);
  }
}

function byteAt(s: Name, i: number): number {
  return typeof s === 'string' ? s.charCodeAt(i) : s[i];
}

/**
 * The integer written in `s` from byte `from` (ASCII digits, an optional leading '-'), or NaN when
 * it is empty or holds anything else: what Lua's tonumber reads from a HINCRBY value or a bucket
 * suffix, without a string or a regex per field.
 */
function intFrom(s: Name, from: number): number {
  const n = s.length;
  let i = from;
  let neg = false;
  if (i < n && byteAt(s, i) === C_MINUS) {
    neg = true;
    i++;
  }
  if (i >= n) return NaN;
  let v = 0;
  for (; i < n; i++) {
    const c = byteAt(s, i);
    if (c < C_0 || c > C_9) return NaN;
    v = v * 10 + (c - C_0);
  }
  return neg ? -v : v;
}

/**
 * A number's received calls as the windows hash holds them, parsed once so they can be summed at
 * any time: (bucket, count) pairs of `J` (answered calls received) and `K` (of those, from numbers it
 * had called) per 2-hour bucket, `I` and `R` per UTC day. Every other field is passed over, and so
 * is a value that is not an integer (the script's tonumber would fail).
 */
export interface ReceivedCalls {
  j: number[];
  k: number[];
  i: number[];
  r: number[];
}

export function receivedCalls(fields: WindowsHash): ReceivedCalls {
  const out: ReceivedCalls = { j: [], k: [], i: [], r: [] };
  eachField(fields, (name, value) => {
    const c = byteAt(name, 0);
    const list = c === C_J ? out.j : c === C_K ? out.k : c === C_I ? out.i : c === C_R ? out.r : null;
    if (!list) return;
    const bucket = intFrom(name, 1);
    const v = typeof value === 'string' ? intFrom(value, 0) : intOf(value);
    if (!Number.isNaN(bucket) && !Number.isNaN(v)) list.push(bucket, v);
  });
  return out;
}

/**
 * The received-call sums read at `at` (event time, ms), as caller-batch-1.lua sums `J` `K` (2-hour
 * buckets floor(at / 2 h) - 12 to floor(at / 2 h)) and `I` `R` (days floor(at / day) - 6 to
 * floor(at / day)); the script's apply reads them at max(watermark, event time), its 'r' read at the
 * time asked for. The script compares field names as strings of the lower bound's length, which is
 * the numeric comparison used here as long as both bounds have the same number of digits (2-hour
 * buckets until the year 2198, days until 2243).
 */
export function receivedAt(r: ReceivedCalls, at: number): ReceivedWindows {
  const dhi = Math.floor(at / D);
  const yhi = Math.floor(at / DAY);
  const dlo = dhi - 12;
  const ylo = yhi - (WINDOW.days7 - 1);
  return {
    in1440: sumIn(r.j, dlo, dhi),
    back1440: sumIn(r.k, dlo, dhi),
    in7d: sumIn(r.i, ylo, yhi),
    back7d: sumIn(r.r, ylo, yhi),
  };
}

/** The received-call sums of the windows hash read at `at` (receivedCalls, then receivedAt). */
export function receivedWindows(fields: WindowsHash, at: number): ReceivedWindows {
  return receivedAt(receivedCalls(fields), at);
}

/** Sum of the (bucket, count) pairs' counts whose bucket lies in [lo, hi]. */
function sumIn(pairs: readonly number[], lo: number, hi: number): number {
  let s = 0;
  for (let x = 0; x < pairs.length; x += 2) if (pairs[x] >= lo && pairs[x] <= hi) s += pairs[x + 1];
  return s;
}

/** intFrom(b, 0) for a Buffer: a HINCRBY value. */
function intOf(b: Buffer): number {
  const n = b.length;
  let i = 0;
  let neg = false;
  if (n > 0 && b[0] === C_MINUS) {
    neg = true;
    i = 1;
  }
  if (i >= n) return NaN;
  let v = 0;
  for (; i < n; i++) {
    const d = b[i] - C_0;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

function bytes(v: Name): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
}

function text(v: Name): string {
  return typeof v === 'string' ? v : v.toString('utf8');
}

/** The script's counters of a bucket value, in its struct order, or null for a length it never writes. */
function counters(ring: 'M' | 'H' | 'D' | 'Y', v: Buffer): number[] | null {
  if (ring === 'M') return v.length === 2 ? [v.readUInt16LE(0)] : null;
  if (ring === 'H') {
    if (v.length !== 14) return null;
    // '<HHHHIH': attempts, answered, short answered, new distinct, talk seconds, ended with talk
    return [
      v.readUInt16LE(0),
      v.readUInt16LE(2),
      v.readUInt16LE(4),
      v.readUInt16LE(6),
      v.readUInt32LE(8),
      v.readUInt16LE(12),
    ];
  }
  // '<HHHHIHHH': attempts, answered, new distinct, new ever, talk seconds, ended with talk, short, long
  if (v.length === 18) {
    return [
      v.readUInt16LE(0),
      v.readUInt16LE(2),
      v.readUInt16LE(4),
      v.readUInt16LE(6),
      v.readUInt32LE(8),
      v.readUInt16LE(12),
      v.readUInt16LE(14),
      v.readUInt16LE(16),
    ];
  }
  // the earlier '<HHH' layout: attempts, answered, new distinct; the rest read as 0 (the script
  // reads a 2-hour bucket so and rewrites it in the new layout when next updated). Only D: the
  // script's read of a 6-byte day bucket would fail (it unpacks the new layout), so none exists.
  if (v.length === 6 && ring === 'D')
    return [v.readUInt16LE(0), v.readUInt16LE(2), v.readUInt16LE(4), 0, 0, 0, 0, 0];
  return null;
}

/** "mask:tLast" of a replay guard, or null when it is not that (the script's housekeeping drops it). */
function guard(v: Name): { mask: number; last: number } | null {
  const n = v.length;
  let colon = -1;
  for (let i = 0; i < n; i++) {
    if (byteAt(v, i) === C_COLON) {
      colon = i;
      break;
    }
  }
  if (colon <= 0) return null;
  const s = text(v);
  const mask = intFrom(s.slice(0, colon), 0);
  const last = intFrom(s, colon + 1);
  if (!(mask >= 0) || !(last >= 0)) return null;
  return { mask, last };
}

function list(v: string): string[] {
  return v === '' ? [] : v.split(',');
}

interface Pending {
  ring: 'M' | 'H' | 'D' | 'Y';
  k: number;
  name: string;
  value: Buffer;
}

/**
 * A CallerState holding what the windows hash holds: every M (2-minute), H (10-minute), D (2-hour,
 * the earlier 6-byte layout too) and Y (day) bucket a window can still read, the replay guards
 * (`c<call>`), `wm`, `fs`, `rg` (region), `dr` (regions), `hs` (handsets); `empty` is false when
 * the hash has any field; `rev` 0 (no state string stored yet). Buckets older than their window
 * plus the lateness before the watermark are dropped, as the script's housekeeping drops them (no
 * read of the script at or after watermark - lateness could count them).
 *
 * Not carried: `J` `K` `I` `R` and `rv` (received calls and their revision stay in the hash:
 * receivedWindows), `xd` and `te`
 * (which day the script last set the TTL of the day's distinct-callee HyperLogLog and of the hash
 * and familiarity keys: TTL bookkeeping of the script, nothing a window reads), `m<k>` `h<k>` `d<k>`
 * (the earlier text layout, never read, dropped by housekeeping). A field the script could not read
 * (a bucket of another length, a malformed guard, an unknown name) is left out and named in
 * `notes.unmapped`.
 */
export function callerStateFromHash(
  fields: WindowsHash,
  opts: CallerStateOptions,
  notes: LegacyConversionNotes = { dropped: 0, unmapped: [] },
): CallerState {
  const s = new CallerState(opts);
  const pending: Pending[] = [];
  let any = false;
  eachField(fields, (rawName, value) => {
    any = true;
    const name = text(rawName);
    const c = name.charCodeAt(0);
    if (c === C_M || c === C_H || c === C_D || c === C_Y) {
      const k = intFrom(name, 1);
      if (Number.isNaN(k)) notes.unmapped.push(`${name}: not a bucket number`);
      else pending.push({ ring: name[0] as Pending['ring'], k, name, value: bytes(value) });
      return;
    }
    if (c === C_J || c === C_K || c === C_I || c === C_R) return;
    if (c === C_C) {
      const g = guard(value);
      if (g) s.guards.set(name.slice(1), g);
      else notes.unmapped.push(`${name}: replay guard "${text(value)}" is not mask:tLast`);
      return;
    }
    switch (name) {
      case 'wm':
        s.wm = Number(text(value)) || 0;
        return;
      case 'fs':
        s.fs = Number(text(value)) || 0;
        return;
      case 'rg':
        s.region = text(value);
        return;
      case 'dr':
        s.regions.push(...list(text(value)));
        return;
      case 'hs':
        s.devices.push(...list(text(value)));
        return;
      case 'xd':
      case 'te':
      case 'rv': // the received calls' revision (callee-batch-1.lua): stays in the hash with them
        return;
    }
    if ((c === 109 || c === 104 || c === 100) && (name.charCodeAt(1) || 0) <= C_9) {
      notes.dropped++; // `m<k>` `h<k>` `d<k>`: the earlier text layout
      return;
    }
    notes.unmapped.push(`${name}: unknown field`);
  });
  s.empty = !any;
  const late = opts.latenessMs;
  const wm = s.wm;
  // the oldest bucket any window can still read (the script's housekeeping keeps from there), and
  // the newest (the watermark's): the rings hold exactly that span
  const span = {
    M: [Math.floor((wm - tenMinutes - late) / M), Math.floor(wm / M)],
    H: [Math.floor((wm - hour - late) / H), Math.floor(wm / H)],
    D: [Math.floor((wm - DAY - late) / D), Math.floor(wm / D)],
    Y: [Math.floor((wm - WEEK - late) / DAY), Math.floor(wm / DAY)],
  };
  for (const p of pending) {
    const [lo, hi] = span[p.ring];
    if (p.k < lo) {
      notes.dropped++;
      continue;
    }
    if (p.k > hi) {
      notes.unmapped.push(`${p.name}: bucket after the watermark ${wm}`);
      continue;
    }
    const v = counters(p.ring, p.value);
    if (!v) {
      notes.unmapped.push(`${p.name}: ${p.value.length} bytes, no ${p.ring} bucket has that length`);
      continue;
    }
    s.setBucket(p.ring, p.k, v);
  }
  return s;
}
