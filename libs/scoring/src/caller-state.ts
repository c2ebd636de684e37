import { CallerWindows, emptyWindows, WINDOW } from './windows';

/**
 * Design B of issue 13, its Node side: the caller windows of ONE calling number kept in the
 * detector's memory by the single owner of the number's key group, and written to Redis as one
 * binary string per number and round, instead of caller-batch-1.lua walking a hash per event.
 *
 * The counting rules are those of caller-batch-1.lua and ReferenceWindows (windows.ts): same
 * buckets, same "a bucket counts while any part of it is inside the window", same replay guard,
 * lateness, out-of-order handling and guard housekeeping, counters saturating where the script's
 * do (65535, talk seconds 2^32 - 1). What stays in Redis, as pipelined commands of the round, is
 * what would not fit a number's string: the familiarity hash, which stores the last day the number
 * called each callee (caller-notes-1.lua); its answers arrive as the event's `newDistinct` and
 * `newEver`.
 *
 * Buckets live in rings sized from the lateness, so an event's bucket and every bucket a window can
 * still read have their own slot; a slot is reused once its bucket can no longer be read.
 */
export interface StateEvent {
  /** event time, epoch ms */
  t: number;
  type: 'A' | 'N' | 'E';
  /** the call's fingerprint: the replay guard's key */
  call: string;
  /** talk seconds (ended only) */
  talkS: number;
  /** the event's short-call limit, seconds (rules per carrier) */
  shortCallS: number;
  /** callee region, '' when unknown */
  region: string;
  /** fingerprint of the calling handset, '' when unknown */
  device: string;
  /** attempt: the callee was new for the number's UTC day (caller-notes-1.lua) */
  newDistinct: boolean;
  /** attempt: the number had never called this callee (the familiarity hash gained it) */
  newEver: boolean;
}

export interface CallerStateOptions {
  longCallS: number;
  latenessMs: number;
}

/** 0 applied, 1 duplicate, 2 late: the caller script's statuses. */
export type StateStatus = 0 | 1 | 2;

const { bucket10m: M, bucket1h: H, bucket24h: D, day: DAY, tenMinutes, hour } = WINDOW;
const WEEK_DAYS = WINDOW.days7;
const MAX_LIST = 16;
const OPEN_GUARD_MS = 21_600_000;
const U16 = 65535;
const U32 = 4294967295;
const BLOB_VERSION = 2;

/** Field offsets of a 10-minute bucket and of a 2-hour or day bucket. */
const HA = 0,
  HU = 1,
  HS = 2,
  HD = 3,
  HT = 4,
  HE = 5;
const LA = 0,
  LU = 1,
  LD = 2,
  LN = 3,
  LT = 4,
  LE = 5,
  LS = 6,
  LL = 7;

/**
 * Buckets k (bucket index) in a ring of `size` slots of `fields` counters each. A state's rings
 * share two arrays (bucket indexes, counters), each ring at its own base: one state is two typed
 * arrays, not twelve (a detector holds tens of thousands). Offsets returned are into the shared
 * counters `v`. Counters are unsigned 32-bit: the script's are at most 2^32 - 1.
 */
class Ring {
  constructor(
    readonly size: number,
    readonly fields: number,
    private readonly idx: Int32Array,
    private readonly ib: number,
    readonly v: Uint32Array,
    private readonly vb: number,
  ) {}

  /** Whether bucket k has its slot. */
  has(k: number): boolean {
    return this.idx[this.ib + (k % this.size)] === k;
  }

  /** Offset of bucket k's counters, claiming (and zeroing) its slot when another bucket held it. */
  slot(k: number): number {
    const s = k % this.size;
    const o = this.vb + s * this.fields;
    if (this.idx[this.ib + s] !== k) {
      this.idx[this.ib + s] = k;
      this.v.fill(0, o, o + this.fields);
    }
    return o;
  }

  /** Offset of bucket k's slot, which the caller fills whole (no zeroing: a state being read). */
  claim(k: number): number {
    const s = k % this.size;
    this.idx[this.ib + s] = k;
    return this.vb + s * this.fields;
  }

  /** Offset of bucket k's counters, or -1 when it has none. */
  at(k: number): number {
    const s = k % this.size;
    return this.idx[this.ib + s] === k ? this.vb + s * this.fields : -1;
  }

  /** The bucket in slot s (-1: none), and the offset of its counters. */
  bucketAt(s: number): number {
    return this.idx[this.ib + s];
  }

  offsetAt(s: number): number {
    return this.vb + s * this.fields;
  }
}

/**
 * States carve their two arrays out of shared slabs, each part used once: a state is decoded for a
 * round and dropped (held numbers are kept as strings), and an ArrayBuffer of its own (1.4 KB, outside
 * the heap) cost about 2 us to allocate and register with the collector, two views of a slab about
 * 0.3 us (issue 13, detector benchmark profile). A slab lives while any state cut from it does: at
 * most SLAB_BYTES held by one long-lived state.
 */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function carve(bytes: number): [ArrayBuffer, number] {
  if (bytes > SLAB_BYTES) return [new ArrayBuffer(bytes), 0];
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += bytes;
  return [slab, at];
}

/** The six rings' sizes (slots, counters per slot) and where each starts in the shared arrays. */
interface RingLayout {
  sizes: readonly (readonly [number, number])[];
  slots: number;
  values: number;
  ib: readonly number[];
  vb: readonly number[];
}

/** layouts by lateness: every state of a detector has the same (computed once, not per state) */
const layouts = new Map<number, RingLayout>();

function layoutFor(late: number): RingLayout {
  let l = layouts.get(late);
  if (l) return l;
  const dSize = Math.floor((DAY + late) / D) + 2;
  const ySize = Math.floor(((WEEK_DAYS - 1) * DAY + late) / DAY) + 2;
  const sizes: [number, number][] = [
    [Math.floor((tenMinutes + late) / M) + 2, 1],
    [Math.floor((hour + late) / H) + 2, 6],
    [dSize, 8],
    [ySize, 8],
    [dSize, 2],
    [ySize, 2],
  ];
  const ib: number[] = [];
  const vb: number[] = [];
  let slots = 0;
  let values = 0;
  for (const [size, fields] of sizes) {
    ib.push(slots);
    vb.push(values);
    slots += size;
    values += size * fields;
  }
  l = { sizes, slots, values, ib, vb };
  layouts.set(late, l);
  return l;
}

/** Ring k of a layout over the shared arrays. */
function ring(l: RingLayout, k: number, idx: Int32Array, v: Uint32Array): Ring {
  return new Ring(l.sizes[k][0], l.sizes[k][1], idx, l.ib[k], v, l.vb[k]);
}

interface Guard {
  mask: number;
  last: number;
}

export class CallerState {
  wm = 0;
  fs = 0;
  region = '';
  readonly regions: string[] = [];
  readonly devices: string[] = [];
  readonly guards = new Map<string, Guard>();
  /** nothing applied yet (the script's empty hash): the first event runs housekeeping */
  empty = true;
  /**
   * The revision of the stored string this state was read from (0: none stored yet): a write is
   * compared against it, so a replica never overwrites another's newer write (detector windows.state.ts).
   */
  rev = 0;
  private readonly m: Ring;
  private readonly h: Ring;
  private readonly d: Ring;
  private readonly y: Ring;
  /** received calls and calls back: per 2-hour bucket (j) and per day (i) */
  private readonly j: Ring;
  private readonly i: Ring;

  constructor(private readonly opts: CallerStateOptions) {
    const l = layoutFor(opts.latenessMs);
    // one part of a slab for both arrays (zeroed: never used before); the bucket indexes start at -1
    const [store, at] = carve(4 * (l.slots + l.values));
    const idx = new Int32Array(store, at, l.slots).fill(-1);
    const v = new Uint32Array(store, at + 4 * l.slots, l.values);
    this.m = ring(l, 0, idx, v);
    this.h = ring(l, 1, idx, v);
    this.d = ring(l, 2, idx, v);
    this.y = ring(l, 3, idx, v);
    this.j = ring(l, 4, idx, v);
    this.i = ring(l, 5, idx, v);
  }

  /**
   * What the event would be without applying it: the round's pre-check, which decides the
   * attempts to note (caller-notes-1.lua). Exact unless a guard housekeeping drops in the same round
   * changes the answer, which `apply` then reports (its attempt counts no new callee).
   */
  wouldApply(ev: Pick<StateEvent, 't' | 'type' | 'call'>, wmNow = this.wm): boolean {
    const g = this.guards.get(ev.call);
    const bit = ev.type === 'A' ? 1 : ev.type === 'N' ? 2 : 4;
    if (g && g.mask & bit) return false;
    return !(wmNow > 0 && ev.t < wmNow - this.opts.latenessMs);
  }

  /**
   * Applies one event; returns its status and, when `out` is given, fills it with the windows read
   * as the script reads them (at max(watermark, t); a late event and the end of an unanswered call
   * read every sum as 0).
   */
  apply(ev: StateEvent, out?: CallerWindows): StateStatus {
    const t = ev.t;
    const late = this.opts.latenessMs;
    const bit = ev.type === 'A' ? 1 : ev.type === 'N' ? 2 : 4;
    const guard = this.guards.get(ev.call);
    const mask = guard ? guard.mask : 0;
    if (mask & bit) {
      if (out) {
        this.read(Math.max(this.wm, t), out);
        out.at = this.wm;
      }
      return 1;
    }
    if (this.wm > 0 && t < this.wm - late) {
      if (out) zero(out, this.wm);
      return 2;
    }
    if (guard) {
      guard.mask = mask | bit;
      if (t > guard.last) guard.last = t;
    } else this.guards.set(ev.call, { mask: bit, last: t });

    let da = 0,
      du = 0,
      dd = 0,
      dn = 0,
      dt = 0,
      de = 0,
      ds = 0,
      dl = 0;
    if (ev.type === 'A') {
      da = 1;
      if (ev.newDistinct) dd = 1;
      if (ev.newEver) dn = 1;
      const rg = ev.region;
      if (rg !== '') {
        if (!this.regions.includes(rg) && this.regions.length < MAX_LIST) this.regions.push(rg);
        this.region = rg;
      }
      const dv = ev.device;
      if (dv !== '' && !this.devices.includes(dv) && this.devices.length < MAX_LIST) this.devices.push(dv);
    } else if (ev.type === 'N') {
      du = 1;
    } else {
      dt = ev.talkS;
      if (dt > 0) {
        de = 1;
        if (dt < ev.shortCallS) ds = 1;
        if (dt >= this.opts.longCallS) dl = 1;
      }
    }
    const light = ev.type === 'E' && dt === 0 && (mask & 2) === 0;
    let opened = this.empty;
    this.empty = false;
    if (!light) {
      const mk = Math.floor(t / M);
      if (!this.m.has(mk)) opened = true;
      let o = this.m.slot(mk);
      const mv = this.m.v;
      mv[o] = Math.min(mv[o] + da, U16);
      o = this.h.slot(Math.floor(t / H));
      const hv = this.h.v;
      hv[o + HA] = Math.min(hv[o + HA] + da, U16);
      hv[o + HU] = Math.min(hv[o + HU] + du, U16);
      hv[o + HS] = Math.min(hv[o + HS] + ds, U16);
      hv[o + HD] = Math.min(hv[o + HD] + dd, U16);
      hv[o + HT] = Math.min(hv[o + HT] + dt, U32);
      hv[o + HE] = Math.min(hv[o + HE] + de, U16);
      bump(this.d, Math.floor(t / D), da, du, dd, dn, dt, de, ds, dl);
      bump(this.y, Math.floor(t / DAY), da, du, dd, dn, dt, de, ds, dl);
    }
    if (this.fs === 0 || t < this.fs) this.fs = t;
    if (t > this.wm) this.wm = t;
    if (out) {
      if (light) this.lightWindows(this.wm, out);
      else this.read(this.wm, out);
    }
    if (opened) this.dropGuards();
    return 0;
  }

  /**
   * Sets bucket k of ring M (2-minute), H (10-minute), D (2-hour) or Y (day) to `counters`, in the
   * script's struct order (M: attempts; H: attempts, answered, short answered, new distinct, talk
   * seconds, ended with talk; D and Y: attempts, answered, new distinct, new ever, talk seconds, ended
   * with talk, short, long): what a state read from today's windows hash is built with.
   */
  setBucket(ring: 'M' | 'H' | 'D' | 'Y', k: number, counters: readonly number[]): void {
    const r = ring === 'M' ? this.m : ring === 'H' ? this.h : ring === 'D' ? this.d : this.y;
    const o = r.slot(k);
    for (let f = 0; f < r.fields; f++) r.v[o + f] = counters[f] ?? 0;
  }

  /** A call this number received ended with talk (callee side): counted, as a call back when `back`. */
  incoming(t: number, back: boolean): void {
    for (const [ring, k] of [
      [this.j, Math.floor(t / D)],
      [this.i, Math.floor(t / DAY)],
    ] as const) {
      const o = ring.slot(k);
      ring.v[o] += 1;
      if (back) ring.v[o + 1] += 1;
    }
  }

  /** The windows read at `at`, into `out` (a fresh object when not given). */
  read(at: number, out: CallerWindows = emptyWindows(at)): CallerWindows {
    this.lightWindows(at, out);
    const mv = this.m.v;
    const mhi = Math.floor(at / M);
    for (let k = Math.floor((at - tenMinutes) / M); k <= mhi; k++) {
      const o = this.m.at(k);
      if (o >= 0) out.attempts10m += mv[o];
    }
    const hv = this.h.v;
    const hhi = Math.floor(at / H);
    for (let k = Math.floor((at - hour) / H); k <= hhi; k++) {
      const o = this.h.at(k);
      if (o < 0) continue;
      out.attempts1h += hv[o + HA];
      out.answered1h += hv[o + HU];
      out.shortAnswered1h += hv[o + HS];
      out.distinct1h += hv[o + HD];
      out.talk1h += hv[o + HT];
      out.ended1h += hv[o + HE];
    }
    const dv = this.d.v;
    const jv = this.j.v;
    const dhi = Math.floor(at / D);
    for (let k = Math.floor((at - DAY) / D); k <= dhi; k++) {
      let o = this.d.at(k);
      if (o >= 0) {
        out.attempts24h += dv[o + LA];
        out.answered24h += dv[o + LU];
        out.distinct24h += dv[o + LD];
        out.newEver24h += dv[o + LN];
        out.talk24h += dv[o + LT];
        out.ended24h += dv[o + LE];
        out.short24h += dv[o + LS];
        out.long24h += dv[o + LL];
        if (dv[o + LA] > 0) out.slots24h++;
      }
      o = this.j.at(k);
      if (o >= 0) {
        out.in24h += jv[o];
        out.calledBack24h += jv[o + 1];
      }
    }
    const yv = this.y.v;
    const iv = this.i.v;
    const yhi = Math.floor(at / DAY);
    for (let k = yhi - (WEEK_DAYS - 1); k <= yhi; k++) {
      let o = this.y.at(k);
      if (o >= 0) {
        out.attempts7d += yv[o + LA];
        out.answered7d += yv[o + LU];
        out.distinct7d += yv[o + LD];
        out.newEver7d += yv[o + LN];
        out.talk7d += yv[o + LT];
        out.ended7d += yv[o + LE];
        if (yv[o + LA] > 0) out.days7d++;
      }
      o = this.i.at(k);
      if (o >= 0) {
        out.in7d += iv[o];
        out.calledBack7d += iv[o + 1];
      }
    }
    return out;
  }

  private lightWindows(at: number, out: CallerWindows): void {
    zero(out, at);
    out.firstSeen = this.fs;
    out.distinctRegions = this.regions.length;
    out.region = this.region;
    out.handsets = this.devices.length;
  }

  /** The script's housekeeping of replay guards, when a new 2-minute bucket opens. */
  private dropGuards(): void {
    const cut = this.wm - this.opts.latenessMs;
    for (const [call, g] of this.guards) {
      if ((g.mask >= 4 && g.last < cut) || g.last < cut - OPEN_GUARD_MS) this.guards.delete(call);
    }
  }

  /**
   * The state as one binary string: only buckets a window can still read (as the script's
   * housekeeping keeps them) and the live replay guards. Counters as the script stores them
   * (16-bit, talk 32-bit; received calls 32-bit).
   */
  encode(scratch: Buffer = Buffer.allocUnsafe(ENCODE_SCRATCH)): Buffer {
    const late = this.opts.latenessMs;
    const wm = this.wm;
    let p = 0;
    p = scratch.writeUInt8(BLOB_VERSION, p);
    p = scratch.writeUInt32LE(this.rev, p);
    p = scratch.writeDoubleLE(wm, p);
    p = scratch.writeDoubleLE(this.fs, p);
    p = scratch.writeUInt8(this.empty ? 1 : 0, p);
    p = writeStr(scratch, p, this.region);
    p = writeList(scratch, p, this.regions);
    p = writeList(scratch, p, this.devices);
    p = writeRing(scratch, p, this.m, Math.floor((wm - tenMinutes - late) / M), U16_ONLY);
    p = writeRing(scratch, p, this.h, Math.floor((wm - hour - late) / H), HOUR_WIDTHS);
    const dKeep = Math.floor((wm - DAY - late) / D);
    const yKeep = Math.floor((wm - (WEEK_DAYS - 1) * DAY - late) / DAY);
    p = writeRing(scratch, p, this.d, dKeep, LONG_WIDTHS);
    p = writeRing(scratch, p, this.y, yKeep, LONG_WIDTHS);
    p = writeRing(scratch, p, this.j, dKeep, RECV_WIDTHS);
    p = writeRing(scratch, p, this.i, yKeep, RECV_WIDTHS);
    p = scratch.writeUInt16LE(this.guards.size, p);
    for (const [call, g] of this.guards) {
      p = writeStr(scratch, p, call);
      p = scratch.writeUInt8(g.mask, p);
      p = scratch.writeDoubleLE(g.last, p);
    }
    return Buffer.from(scratch.subarray(0, p));
  }

  /** A state from `encode`'s string. Throws on a string of another version or a truncated one. */
  static decode(blob: Buffer, opts: CallerStateOptions): CallerState {
    if (blob.length < 22 || blob[0] !== BLOB_VERSION) {
      throw new Error(`caller state: not a version ${BLOB_VERSION} state (${blob.length} bytes)`);
    }
    const s = new CallerState(opts);
    s.rev = blob.readUInt32LE(1);
    const r = { p: 5 };
    s.wm = blob.readDoubleLE(r.p);
    s.fs = blob.readDoubleLE(r.p + 8);
    s.empty = blob[r.p + 16] === 1;
    r.p += 17;
    s.region = readStr(blob, r);
    s.regions.push(...readList(blob, r));
    s.devices.push(...readList(blob, r));
    readRing(blob, r, s.m, U16_ONLY);
    readRing(blob, r, s.h, HOUR_WIDTHS);
    readRing(blob, r, s.d, LONG_WIDTHS);
    readRing(blob, r, s.y, LONG_WIDTHS);
    readRing(blob, r, s.j, RECV_WIDTHS);
    readRing(blob, r, s.i, RECV_WIDTHS);
    const n = blob.readUInt16LE(r.p);
    r.p += 2;
    for (let k = 0; k < n; k++) {
      const call = readStr(blob, r);
      s.guards.set(call, { mask: blob[r.p], last: blob.readDoubleLE(r.p + 1) });
      r.p += 9;
    }
    if (r.p !== blob.length) throw new Error(`caller state: ${blob.length - r.p} bytes after the end`);
    return s;
  }
}

/** Enough for 16 regions and handsets, every bucket and a few hundred replay guards. */
const ENCODE_SCRATCH = 64 * 1024;
/** Byte widths of each counter of a ring's bucket, as stored: 2 (16-bit) or 4 (32-bit). */
const U16_ONLY = [2];
const HOUR_WIDTHS = [2, 2, 2, 2, 4, 2];
const LONG_WIDTHS = [2, 2, 2, 2, 4, 2, 2, 2];
const RECV_WIDTHS = [4, 4];

function bump(
  ring: Ring,
  k: number,
  a: number,
  u: number,
  d: number,
  n: number,
  tt: number,
  e: number,
  s: number,
  l: number,
): void {
  const o = ring.slot(k);
  const v = ring.v;
  v[o + LA] = Math.min(v[o + LA] + a, U16);
  v[o + LU] = Math.min(v[o + LU] + u, U16);
  v[o + LD] = Math.min(v[o + LD] + d, U16);
  v[o + LN] = Math.min(v[o + LN] + n, U16);
  v[o + LT] = Math.min(v[o + LT] + tt, U32);
  v[o + LE] = Math.min(v[o + LE] + e, U16);
  v[o + LS] = Math.min(v[o + LS] + s, U16);
  v[o + LL] = Math.min(v[o + LL] + l, U16);
}

/** Every sum of `out` 0, read at `at` (no allocation: this runs for every event). */
function zero(out: CallerWindows, at: number): void {
  out.at = at;
  out.firstSeen = 0;
  out.attempts10m = out.attempts1h = out.answered1h = out.shortAnswered1h = out.distinct1h = 0;
  out.talk1h = out.ended1h = 0;
  out.attempts24h = out.answered24h = out.distinct24h = out.newEver24h = out.talk24h = out.ended24h = 0;
  out.short24h = out.long24h = out.slots24h = 0;
  out.attempts7d = out.answered7d = out.distinct7d = out.newEver7d = out.talk7d = out.ended7d = 0;
  out.days7d = out.in24h = out.calledBack24h = out.in7d = out.calledBack7d = 0;
  out.handsets = out.distinctRegions = 0;
  out.listGlobal = out.listCarrier = out.region = '';
}

function writeStr(b: Buffer, p: number, s: string): number {
  const n = b.write(s, p + 1, 'latin1');
  b.writeUInt8(n, p);
  return p + 1 + n;
}

function readStr(b: Buffer, r: { p: number }): string {
  const n = b[r.p];
  const s = b.toString('latin1', r.p + 1, r.p + 1 + n);
  r.p += 1 + n;
  return s;
}

function writeList(b: Buffer, p: number, list: string[]): number {
  p = b.writeUInt8(list.length, p);
  for (const s of list) p = writeStr(b, p, s);
  return p;
}

function readList(b: Buffer, r: { p: number }): string[] {
  const n = b[r.p++];
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(readStr(b, r));
  return out;
}

/**
 * A ring's live buckets: their count, then each bucket's index ('<i') and counters at `widths`
 * (2: '<H', 4: '<I'). Bytes are set one by one: Buffer's write and read methods check their
 * arguments on every call, and a state has a few hundred counters (issue 13, per-event cost).
 */
function writeRing(b: Buffer, p: number, ring: Ring, keep: number, widths: readonly number[]): number {
  const at = p;
  p += 1;
  let n = 0;
  const v = ring.v;
  const nf = widths.length;
  for (let s = 0; s < ring.size; s++) {
    const k = ring.bucketAt(s);
    if (k < 0 || k < keep) continue;
    n++;
    b[p] = k & 255;
    b[p + 1] = (k >>> 8) & 255;
    b[p + 2] = (k >>> 16) & 255;
    b[p + 3] = k >>> 24;
    p += 4;
    const o = ring.offsetAt(s);
    for (let f = 0; f < nf; f++) {
      const x = v[o + f];
      b[p] = x & 255;
      b[p + 1] = (x >>> 8) & 255;
      if (widths[f] === 2) p += 2;
      else {
        b[p + 2] = (x >>> 16) & 255;
        b[p + 3] = x >>> 24;
        p += 4;
      }
    }
  }
  b[at] = n;
  return p;
}

function readRing(b: Buffer, r: { p: number }, ring: Ring, widths: readonly number[]): void {
  let p = r.p;
  const n = b[p++];
  const v = ring.v;
  const nf = widths.length;
  for (let k = 0; k < n; k++) {
    // a bucket index is signed ('<i'), a counter unsigned (`>>> 0`)
    const o = ring.claim(b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24));
    p += 4;
    for (let f = 0; f < nf; f++) {
      if (widths[f] === 2) {
        v[o + f] = b[p] | (b[p + 1] << 8);
        p += 2;
      } else {
        v[o + f] = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
        p += 4;
      }
    }
  }
  if (p > b.length) throw new RangeError('caller state: truncated ring');
  r.p = p;
}
