import { CallerWindows, emptyWindows, WINDOW } from './windows';

/** One event of a call, as the caller script gets it. */
export interface ReferenceEvent {
  /** event time, epoch ms */
  t: number;
  /** 'A' attempt, 'N' answered, 'E' ended */
  type: 'A' | 'N' | 'E';
  /** call id (any string unique per call of this number) */
  call: string;
  /** the called number (any string unique per counterpart) */
  callee: string;
  /** talk seconds (ended only) */
  talkS: number;
  /** callee region, '' or absent when unknown */
  region?: string;
  /** the calling handset, '' or absent when unknown */
  device?: string;
}

/** An answered call the number received, at its end (the callee script counts it there). */
export interface ReferenceIncoming {
  t: number;
  /** the calling number */
  caller: string;
  talkS: number;
}

export interface ReferenceOptions {
  shortCallS: number;
  longCallS: number;
  latenessMs: number;
}

/** Counters of a 10-minute bucket. */
interface HourBucket {
  a: number;
  u: number;
  s: number;
  d: number;
  tt: number;
  e: number;
}

/** Counters of a 2-hour or day bucket. */
interface LongBucket {
  a: number;
  u: number;
  d: number;
  n: number;
  tt: number;
  e: number;
  s: number;
  l: number;
}

interface Guard {
  mask: number;
  last: number;
}

const { bucket10m: M, bucket1h: H, bucket24h: D, day: DAY, tenMinutes, hour } = WINDOW;
const WEEK_DAYS = WINDOW.days7;
const MAX_REGIONS = 16;
/** replay guards of calls that never ended are dropped this long after lateness (as the script) */
const OPEN_GUARD_MS = 21_600_000;

/**
 * The caller windows of ONE calling number, recomputed from its events exactly as
 * caller-batch-1.lua keeps them in Redis (see windows.ts for the counting rules): same buckets,
 * same "a bucket counts while any part of it is inside the window", same replay guard, lateness
 * and out-of-order handling, same housekeeping of replay guards. Differences, by design: distinct
 * callees per day are exact sets where the script uses HyperLogLogs (so distinct1h/24h/7d may
 * differ by the HyperLogLog's error), familiarity (`newEver`) is remembered forever where the
 * script forgets it after the familiarity TTL, counters do not saturate, and list entries are
 * never known ('').
 *
 * Built for replaying millions of events: buckets are Maps keyed by bucket index, dropped as the
 * watermark passes them.
 */
export class ReferenceWindows {
  private wm = 0;
  private fs = 0;
  private readonly m = new Map<number, number>();
  private readonly h = new Map<number, HourBucket>();
  private readonly d = new Map<number, LongBucket>();
  private readonly y = new Map<number, LongBucket>();
  /** received calls and calls back per 2-hour bucket and per day: [received, called back] */
  private readonly j = new Map<number, [number, number]>();
  private readonly i = new Map<number, [number, number]>();
  private readonly guards = new Map<string, Guard>();
  /** callees of each UTC day (the script's per-day HyperLogLog) */
  private readonly daySets = new Map<number, Set<string>>();
  /** callees ever called (the script's familiarity hash) */
  private readonly familiar = new Set<string>();
  private readonly regions: string[] = [];
  private readonly devices: string[] = [];
  private region = '';
  /** nothing applied yet: the script's hash is empty, so its first event runs housekeeping */
  private empty = true;

  constructor(private readonly opts: ReferenceOptions) {}

  /**
   * Applies one event and returns what the script returns for it: status 0 applied, 1 duplicate
   * (the call's event of that type was applied before; nothing changes), 2 late (older than the
   * watermark minus lateness; dropped, windows all 0 as the script's short reply reads), with the
   * windows read at max(watermark, t). The end of an unanswered call changes no counter and, like
   * the script, returns every window sum as 0.
   */
  apply(ev: ReferenceEvent): { status: 0 | 1 | 2; windows: CallerWindows } {
    const t = ev.t;
    const late = this.opts.latenessMs;
    if (this.wm > 0 && t < this.wm - late) return { status: 2, windows: emptyWindows(this.wm) };
    const bit = ev.type === 'A' ? 1 : ev.type === 'N' ? 2 : 4;
    const guard = this.guards.get(ev.call);
    const mask = guard ? guard.mask : 0;
    if (mask & bit) {
      // the script reads at the event time when it is ahead of the watermark, but reports wm
      const windows = this.read(Math.max(this.wm, t));
      windows.at = this.wm;
      return { status: 1, windows };
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
      const day = Math.floor(t / DAY);
      let seen = this.daySets.get(day);
      if (!seen) this.daySets.set(day, (seen = new Set()));
      if (!seen.has(ev.callee)) {
        seen.add(ev.callee);
        dd = 1;
      }
      if (!this.familiar.has(ev.callee)) {
        this.familiar.add(ev.callee);
        dn = 1;
      }
      const rg = ev.region ?? '';
      if (rg !== '') {
        if (!this.regions.includes(rg) && this.regions.length < MAX_REGIONS) this.regions.push(rg);
        this.region = rg;
      }
      const dv = ev.device ?? '';
      if (dv !== '' && !this.devices.includes(dv) && this.devices.length < MAX_REGIONS) this.devices.push(dv);
    } else if (ev.type === 'N') {
      du = 1;
    } else {
      dt = ev.talkS;
      if (dt > 0) {
        de = 1;
        if (dt < this.opts.shortCallS) ds = 1;
        if (dt >= this.opts.longCallS) dl = 1;
      }
    }
    const light = ev.type === 'E' && dt === 0 && (mask & 2) === 0;
    let opened = this.empty;
    this.empty = false;
    if (!light) {
      const mk = Math.floor(t / M);
      const mv = this.m.get(mk);
      if (mv === undefined) opened = true;
      this.m.set(mk, (mv ?? 0) + da);
      const hk = Math.floor(t / H);
      let hb = this.h.get(hk);
      if (!hb) this.h.set(hk, (hb = { a: 0, u: 0, s: 0, d: 0, tt: 0, e: 0 }));
      hb.a += da;
      hb.u += du;
      hb.s += ds;
      hb.d += dd;
      hb.tt += dt;
      hb.e += de;
      bump(this.d, Math.floor(t / D), da, du, dd, dn, dt, de, ds, dl);
      bump(this.y, Math.floor(t / DAY), da, du, dd, dn, dt, de, ds, dl);
    }
    if (this.fs === 0 || t < this.fs) this.fs = t;
    if (t > this.wm) this.wm = t;
    const at = this.wm;
    const windows = light ? this.lightWindows(at) : this.read(at);
    if (opened) this.housekeeping();
    return { status: 0, windows };
  }

  /**
   * A call this number received ended (callee-batch-1.lua on the number's own windows): counted
   * when it had talk, as a call back when the number had called the caller before. Lateness and
   * duplicates are the calling number's script's business, so every call given here counts.
   */
  incoming(ev: ReferenceIncoming): void {
    if (!(ev.talkS > 0)) return;
    const back = this.familiar.has(ev.caller) ? 1 : 0;
    for (const [map, k] of [
      [this.j, Math.floor(ev.t / D)],
      [this.i, Math.floor(ev.t / DAY)],
    ] as const) {
      const b = map.get(k);
      if (b) {
        b[0]++;
        b[1] += back;
      } else map.set(k, [1, back]);
    }
  }

  /** The windows read at `at` (the script's read mode, 'r'): buckets overlapping each window. */
  read(at: number): CallerWindows {
    const w = emptyWindows(at);
    w.firstSeen = this.fs;
    w.distinctRegions = this.regions.length;
    w.region = this.region;
    w.handsets = this.devices.length;
    const mhi = Math.floor(at / M);
    for (let k = Math.floor((at - tenMinutes) / M); k <= mhi; k++) w.attempts10m += this.m.get(k) ?? 0;
    const hhi = Math.floor(at / H);
    for (let k = Math.floor((at - hour) / H); k <= hhi; k++) {
      const b = this.h.get(k);
      if (!b) continue;
      w.attempts1h += b.a;
      w.answered1h += b.u;
      w.shortAnswered1h += b.s;
      w.distinct1h += b.d;
      w.talk1h += b.tt;
      w.ended1h += b.e;
    }
    const dhi = Math.floor(at / D);
    for (let k = Math.floor((at - DAY) / D); k <= dhi; k++) {
      const b = this.d.get(k);
      if (!b) continue;
      w.attempts24h += b.a;
      w.answered24h += b.u;
      w.distinct24h += b.d;
      w.newEver24h += b.n;
      w.talk24h += b.tt;
      w.ended24h += b.e;
      w.short24h += b.s;
      w.long24h += b.l;
      if (b.a > 0) w.slots24h++;
    }
    for (let k = Math.floor((at - DAY) / D); k <= dhi; k++) {
      const b = this.j.get(k);
      if (!b) continue;
      w.in24h += b[0];
      w.calledBack24h += b[1];
    }
    const yhi = Math.floor(at / DAY);
    for (let k = yhi - (WEEK_DAYS - 1); k <= yhi; k++) {
      const b = this.y.get(k);
      if (!b) continue;
      w.attempts7d += b.a;
      w.answered7d += b.u;
      w.distinct7d += b.d;
      w.newEver7d += b.n;
      w.talk7d += b.tt;
      w.ended7d += b.e;
      if (b.a > 0) w.days7d++;
    }
    for (let k = yhi - (WEEK_DAYS - 1); k <= yhi; k++) {
      const b = this.i.get(k);
      if (!b) continue;
      w.in7d += b[0];
      w.calledBack7d += b[1];
    }
    return w;
  }

  /** What the script returns for the end of an unanswered call: no window sums. */
  private lightWindows(at: number): CallerWindows {
    const w = emptyWindows(at);
    w.firstSeen = this.fs;
    w.distinctRegions = this.regions.length;
    w.region = this.region;
    w.handsets = this.devices.length;
    return w;
  }

  /**
   * The script's housekeeping, run when a new 2-minute bucket opens: buckets past their window
   * plus lateness go, and replay guards of ended calls past lateness (of open calls, 6 hours
   * later). Guards must go exactly when the script drops them: a call's later event then counts
   * as the script counts it. Buckets and day sets could go at any time past the window.
   */
  private housekeeping(): void {
    const wm = this.wm;
    const late = this.opts.latenessMs;
    dropBelow(this.m, Math.floor((wm - tenMinutes - late) / M));
    dropBelow(this.h, Math.floor((wm - hour - late) / H));
    dropBelow(this.d, Math.floor((wm - DAY - late) / D));
    dropBelow(this.y, Math.floor((wm - (WEEK_DAYS - 1) * DAY - late) / DAY));
    dropBelow(this.j, Math.floor((wm - DAY - late) / D));
    dropBelow(this.i, Math.floor((wm - (WEEK_DAYS - 1) * DAY - late) / DAY));
    // an event within lateness can still land on the day of wm - late
    dropBelow(this.daySets, Math.floor((wm - late) / DAY));
    const cut = wm - late;
    for (const [call, g] of this.guards) {
      if ((g.mask >= 4 && g.last < cut) || g.last < cut - OPEN_GUARD_MS) this.guards.delete(call);
    }
  }
}

function bump(
  buckets: Map<number, LongBucket>,
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
  const b = buckets.get(k);
  if (!b) {
    buckets.set(k, { a, u, d, n, tt, e, s, l });
    return;
  }
  b.a += a;
  b.u += u;
  b.d += d;
  b.n += n;
  b.tt += tt;
  b.e += e;
  b.s += s;
  b.l += l;
}

function dropBelow<V>(map: Map<number, V>, keep: number): void {
  for (const k of map.keys()) if (k < keep) map.delete(k);
}
