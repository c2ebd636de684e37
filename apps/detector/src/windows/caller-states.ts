import { fnv1a32 } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import {
  CallerState,
  callerStateFromHash,
  CallerStateOptions,
  CallerWindows,
  emptyWindows,
  LONG_CALL_S,
  receivedAt,
  ReceivedCalls,
  receivedCalls,
} from '@eagle-eye/scoring';
import { BatchRef, CalleeBatch, CalleeEventArgs } from '../lua/caller-args';
import { CallerReply, CallerStatus } from '../lua/caller-reply';
import { DetectorScripts, ScriptCall } from '../lua/detector-scripts';
import { callerStates as metrics } from '../metrics';
import type { DetectionOptions } from '../pipeline/work';

/**
 * Node caller windows (DETECTOR_CALLER_WINDOWS=node, issue 13's design B without partition
 * leases): each calling number's windows are a CallerState (libs/scoring caller-state.ts) applied
 * and read in the detector, stored in Redis as one binary string per number and written once per
 * round, instead of caller-batch-1.lua walking the number's windows hash for every event.
 *
 * Any replica may apply any number's events: a string is written only over the revision it was
 * read at (caller-state-write-1.lua), and a round whose write finds another revision reads that
 * number again and re-applies its events. What a replica applied last is kept in memory (a bounded
 * LRU of numbers), so a number's string is read again only when this replica has not got it or
 * another wrote it since.
 *
 * What a string cannot hold stays in Redis: the familiarity hash, which also keeps the last day
 * each callee was called, so it decides the day's new distinct callees (caller-notes-1.lua), the
 * received calls that callee-batch-1.lua counts in the
 * number's windows hash, the lists mirror (both read with the state, every round).
 */

/** What the windows need besides the events. */
export interface CallerStatesOptions extends CallerStateOptions {
  /** TTL of the windows string, seconds (a day is added, as the script adds to its hash's) */
  historyTtlS: number;
  /** TTL of the familiarity hash, seconds (a day is added, as the script adds) */
  familiarTtlS: number;
  /**
   * numbers whose windows the detector keeps between rounds; also the most that wait to be written
   * (deferred writes): past it the oldest are written before their delay
   */
  maxHeld: number;
  /**
   * how long a changed number's windows may wait before they are written, ms (0: written by the
   * round that changed them); see CallerStates.durable
   */
  writeDelayMs?: number;
  /** TTL of the callee state hash, seconds (callee-batch-1.lua's counts of received calls) */
  windowTtlS?: number;
}

const NO_RECEIVED: ReceivedCalls = Object.freeze({
  j: Object.freeze([]),
  k: Object.freeze([]),
  i: Object.freeze([]),
  r: Object.freeze([]),
}) as unknown as ReceivedCalls;

/** One number as a round reads it. */
export interface Loaded {
  state: CallerState;
  /** lists mirror of the number, global and the carrier's, per carrier id */
  lists: Map<string, [string, string]>;
  received: ReceivedCalls;
  /** the received calls' revision (the windows hash's `rv`) */
  rv: number;
  /** its windows hash still holds caller-batch-1.lua's fields (the state was built from them) */
  legacy: boolean;
}

/**
 * What a replica holds of a number between rounds: its windows as the string it wrote (a few
 * hundred bytes, decoded when a round uses it) rather than the decoded state (about 2.7 KB of
 * objects and counters, which the collector would also have to walk at every major collection).
 */
interface Held {
  blob: Buffer;
  /** the revision stored in Redis (what the next write goes over); the string's own, unless dirty */
  rev: number;
  received: ReceivedCalls;
  rv: number;
  /** changed since it was last written (deferred writes) */
  dirty?: Dirty;
}

/** A number whose windows wait to be written. */
interface Dirty {
  /** the first round that changed it since its last write */
  round: number;
  /** when (wall clock, ms) */
  since: number;
  /** when in event time (the newest event time of the rounds begun then) */
  at: number;
  /** received calls of its ended calls, counted once its windows are written (callee-batch-1.lua op 'c') */
  counts: CalleeEventArgs[];
}

/** The received-call windows read at `at`, into the windows (callee-batch-1.lua counts them in the hash). */
export function receivedInto(r: ReceivedCalls, at: number, out: CallerWindows): void {
  const w = receivedAt(r, at);
  out.in24h = w.in1440;
  out.calledBack24h = w.back1440;
  out.in7d = w.in7d;
  out.calledBack7d = w.back7d;
}

/** One number's part of caller-state-read-1.lua's reply. */
export interface ReadPart {
  blob: Buffer | null;
  /** the stored string is the revision the detector said it holds */
  same: boolean;
  lists: [string, string];
  rv: number;
  fields: [string, Buffer][];
}

export function parseRead(b: Buffer, count: number): ReadPart[] {
  const out: ReadPart[] = [];
  let o = 0;
  for (let n = 0; n < count; n++) {
    const kind = b[o++];
    let blob: Buffer | null = null;
    if (kind === 1) {
      const sl = b.readUInt32LE(o);
      blob = b.subarray(o + 4, o + 4 + sl);
      o += 4 + sl;
    }
    const gl = b.readUInt16LE(o);
    const lg = b.toString('utf8', o + 2, o + 2 + gl);
    o += 2 + gl;
    const cl = b.readUInt16LE(o);
    const lc = b.toString('utf8', o + 2, o + 2 + cl);
    o += 2 + cl;
    const rv = b.readUInt32LE(o);
    const nf = b.readUInt16LE(o + 4);
    o += 6;
    const fields: [string, Buffer][] = [];
    for (let f = 0; f < nf; f++) {
      const fl = b[o];
      const name = b.toString('latin1', o + 1, o + 1 + fl);
      o += 1 + fl;
      const vl = b.readUInt16LE(o);
      fields.push([name, b.subarray(o + 2, o + 2 + vl)]);
      o += 2 + vl;
    }
    out.push({ blob, same: kind === 2, lists: [lg, lc], rv, fields });
  }
  if (o !== b.length) throw new Error(`caller-state-read reply of ${b.length} bytes, read ${o}`);
  return out;
}

/** The received calls of a windows hash, and whether it still has the script's other fields. */
function receivedOf(fields: [string, Buffer][]): { received: ReceivedCalls; legacy: boolean } {
  let legacy = false;
  for (const [name] of fields) {
    const c = name.charCodeAt(0);
    const d = name.charCodeAt(1);
    // J K I R then digits: received calls; rv: their revision; anything else: the script's windows
    if (!((c === 74 || c === 75 || c === 73 || c === 82) && d >= 48 && d <= 57) && name !== 'rv')
      legacy = true;
  }
  const received = receivedCalls(fields);
  // most numbers received no call: they share one empty value (nothing adds to it in place)
  const none = !received.j.length && !received.k.length && !received.i.length && !received.r.length;
  return { received: none ? NO_RECEIVED : received, legacy };
}

/** A number the round asks for, whether its string must be read, the received revision held. */
interface Want {
  token: string;
  carriers: string[];
  /** read from Redis, not held */
  fresh: boolean;
  /** the string wanted: -1 not (held), -2 yes, >= 0 unless it is this revision (held) */
  stateRev: number;
  /** -1: none held (the received calls are read whatever their revision) */
  rv: number;
}

export class CallerStates {
  private readonly held = new Map<string, Held>();
  /**
   * number -> the UTC day whose familiarity hash TTL this replica set (its first
   * attempt), in two generations of at most ttlGeneration numbers: a carrier's day has millions of
   * calling numbers, and one map of them all grew the heap for the whole day (firstOfDay)
   */
  private ttlSet = new Map<string, number>();
  private ttlOld = new Map<string, number>();
  private ttlDay = -1;
  private readonly scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly stateOpts: CallerStateOptions;

  constructor(
    private readonly scripts: DetectorScripts,
    private readonly keys: RedisKeys,
    private readonly opts: CallerStatesOptions,
    /** builds a state from caller-batch-1.lua's windows hash (a number not moved yet) */
    private readonly fromHash: (fields: [string, Buffer][], opts: CallerStateOptions) => CallerState,
  ) {
    this.stateOpts = { latenessMs: opts.latenessMs, longCallS: opts.longCallS };
  }

  /** caller stages begun (beginRound) */
  private round = 0;
  /** the newest event time of the rounds begun */
  private eventNow = 0;
  /** rounds up to this one lost what they changed (clear()): never durable, their entries are applied again */
  private lost = 0;
  /** numbers changed and not written yet, in the order they were first changed (deferred writes) */
  private readonly dirty = new Map<string, Held>();
  /** the first round of the numbers being written by flush() right now (Infinity: none) */
  private writingFrom = Infinity;

  /** numbers read by source since the last flush (one counter update per source and round) */
  private readonly counts = { held: 0, redis: 0, 'script-hash': 0, new: 0 };

  /** the caller stage of the round in progress: one at a time, as they share the held states */
  private turn: Promise<unknown> = Promise.resolve();

  /** held numbers decoded by the caller stage in progress (heldState), one object per number */
  private decoded = new Map<string, CallerState>();

  /**
   * Runs a round's caller stage after the previous one has finished: two rounds applying the same
   * held state at once would each write what the other applied. The consumer runs one caller stage
   * at a time anyway; backtests and benchmarks may not.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const start = () => {
      this.decoded = new Map();
      return work();
    };
    const run = this.turn.then(start, start);
    this.turn = run.catch(() => undefined);
    return run;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /**
   * Reads what a round needs of `numbers` (token, carrier): the state of each number not held (or
   * of every one when `fresh`), its received calls and lists. One script call per key group.
   */
  async load(numbers: Iterable<[string, string]>, fresh = false): Promise<Map<string, Loaded>> {
    const plan = this.plan(numbers, fresh);
    return plan.decode(await this.scripts.run(plan.calls));
  }

  /**
   * load() as script calls and the decoding of their replies, to send in a round trip with other
   * scripts: the caller stage reads the numbers it holds with the round's notes.
   */
  plan(
    numbers: Iterable<[string, string]>,
    fresh = false,
  ): { calls: ScriptCall[]; decode: (replies: unknown[]) => Map<string, Loaded> } {
    const wants = new Map<string, Want>();
    for (const [token, carrier] of numbers) {
      const w = wants.get(token);
      if (w) {
        if (!w.carriers.includes(carrier)) w.carriers.push(carrier);
      } else {
        const h = fresh ? undefined : this.held.get(token);
        wants.set(token, { token, carriers: [carrier], fresh: !h, stateRev: h ? -1 : -2, rv: h ? h.rv : -1 });
      }
    }
    const reads = this.readCalls(wants.values());
    return {
      calls: reads.calls,
      decode: (replies) => {
        const out = new Map<string, Loaded>();
        reads.groups.forEach((items, c) => {
          const parts = parseRead(replies[c] as Buffer, items.length);
          items.forEach(([w, carrier], x) => {
            const part = parts[x];
            let l = out.get(w.token);
            if (!l) {
              l = this.loaded(w, part);
              out.set(w.token, l);
            }
            l.lists.set(carrier, part.lists);
          });
        });
        return out;
      },
    };
  }

  /** Whether this replica holds the number's windows. */
  holds(token: string): boolean {
    return this.held.has(token);
  }

  /** The windows of a number as they stand in Redis (sweep and callee-stage reads). */
  reads(): CallerReads {
    return new CallerReads(this);
  }

  /** read calls per key group: one item per (number, carrier) */
  readCalls(wants: Iterable<Want>): { calls: ScriptCall[]; groups: [Want, string][][] } {
    const byGroup = new Map<number, [Want, string][]>();
    for (const w of wants) {
      const g = this.keys.keyGroup(w.token);
      let items = byGroup.get(g);
      if (!items) byGroup.set(g, (items = []));
      for (const c of w.carriers) items.push([w, c]);
    }
    const calls: ScriptCall[] = [];
    const groups: [Want, string][][] = [];
    for (const [g, items] of byGroup) {
      const args: (string | number)[] = [items.length];
      for (const [w, c] of items) args.push(w.token, c, w.stateRev, w.rv);
      calls.push({ script: 'caller-state-read', keys: [this.keys.groupStem(g)], args });
      groups.push(items);
    }
    return { calls, groups };
  }

  /** A number as the round reads it: held (its received calls again when their revision moved) or read. */
  private loaded(w: Want, part: ReadPart): Loaded {
    const lists = new Map<string, [string, string]>();
    if (!w.fresh) {
      const h = this.held.get(w.token) as Held;
      // most recently used last (the LRU's order)
      this.held.delete(w.token);
      this.held.set(w.token, h);
      this.counts.held++;
      if (part.rv !== h.rv) {
        h.received = receivedOf(part.fields).received;
        h.rv = part.rv;
      }
      return { state: this.heldState(w.token), lists, received: h.received, rv: h.rv, legacy: false };
    }
    const { received, legacy } = receivedOf(part.fields);
    let state: CallerState;
    if (part.blob) {
      state = CallerState.decode(part.blob, this.stateOpts);
      this.counts.redis++;
    } else if (legacy) {
      state = this.fromHash(part.fields, this.stateOpts);
      this.counts['script-hash']++;
    } else {
      state = new CallerState(this.stateOpts);
      this.counts.new++;
    }
    return { state, lists, received, rv: part.rv, legacy: legacy && !part.blob };
  }

  /** What this replica holds of a number (read-only use: the callee stage's and the sweep's reads). */
  heldOf(token: string): Readonly<Held> | undefined {
    return this.held.get(token);
  }

  /**
   * The held state of a number for the caller stage in progress: decoded once per stage, the same
   * object however often the stage asks (it applies the round's events to it, then writes it).
   */
  heldState(token: string): CallerState {
    let s = this.decoded.get(token);
    if (!s) {
      const h = this.held.get(token);
      if (!h) throw new Error(`caller windows of ${token} are not held`);
      s = CallerState.decode(h.blob, this.stateOpts);
      this.decoded.set(token, s);
    }
    return s;
  }

  /** A state as Redis has it: its string, else built from the script's hash, else none (null). */
  stored(blob: Buffer | null, scriptHash: [string, Buffer][] | null): CallerState | null {
    if (blob) return CallerState.decode(blob, this.stateOpts);
    return scriptHash ? this.fromHash(scriptHash, this.stateOpts) : null;
  }

  /**
   * Whether the number's familiarity hash TTL is still to be set today by this replica: true once
   * per number and UTC day.
   */
  firstOfDay(token: string, day: number): boolean {
    if (day > this.ttlDay) {
      this.ttlDay = day;
      this.ttlSet = new Map();
      this.ttlOld = new Map();
    }
    if (this.ttlSet.get(token) === day || this.ttlOld.get(token) === day) return false;
    // A number forgotten here (two generations ago) has its TTLs set once more, to the same
    // lengths: an EXPIRE or two, never a key left without one.
    if (this.ttlSet.size >= this.ttlGeneration) {
      this.ttlOld = this.ttlSet;
      this.ttlSet = new Map();
    }
    this.ttlSet.set(token, day);
    return true;
  }

  /** Undoes firstOfDay(token, day): the notes that were to set the number's day TTLs failed. */
  forgetFirstOfDay(token: string, day: number): void {
    if (this.ttlSet.get(token) === day) this.ttlSet.delete(token);
    if (this.ttlOld.get(token) === day) this.ttlOld.delete(token);
  }

  /** Numbers firstOfDay remembers (at most twice ttlGeneration). */
  get ttlRemembered(): number {
    return this.ttlSet.size + this.ttlOld.size;
  }

  /** numbers per generation of firstOfDay's memory: as many as are held, at least 10,000 */
  private get ttlGeneration(): number {
    return Math.max(10_000, this.opts.maxHeld);
  }

  /** A round's caller-notes-1.lua calls. */
  notes(): CallerNotes {
    return new CallerNotes(this.keys, this.opts.familiarTtlS + 86400);
  }

  /** Starts a caller stage's round whose newest event is at `eventT`; returns its number (see durable). */
  beginRound(eventT: number): number {
    if (eventT > this.eventNow) this.eventNow = eventT;
    return ++this.round;
  }

  /** Whether windows changes wait to be written (DETECTOR_WINDOWS_WRITE_DELAY_MS > 0). */
  get deferred(): boolean {
    return (this.opts.writeDelayMs ?? 0) > 0;
  }

  /**
   * Whether everything round `round` changed is in Redis: its hand-off entries may then be
   * acknowledged. Without deferred writes, every round that finished its caller stage is.
   */
  durable(round: number): boolean {
    if (!this.deferred) return true;
    if (round <= this.lost) return false;
    const first = this.dirty.values().next();
    const oldest = Math.min(this.writingFrom, first.done ? Infinity : (first.value.dirty as Dirty).round);
    return round < oldest;
  }

  /** Numbers whose windows wait to be written. */
  get dirtyCount(): number {
    return this.dirty.size;
  }

  /**
   * Whether flush(all) has anything to write now: a number changed the delay ago in wall time or in
   * event time (a replay faster than real time writes as often per event-time second as live
   * traffic, so that the received calls counted after the writes are as current).
   */
  due(all: boolean, now = Date.now()): boolean {
    const first = this.dirty.values().next();
    if (first.done) return false;
    return all || this.dirty.size > this.opts.maxHeld || this.isDue(first.value.dirty as Dirty, now);
  }

  private isDue(d: Dirty, now: number): boolean {
    const delay = this.opts.writeDelayMs ?? 0;
    return d.since <= now - delay || d.at <= this.eventNow - delay;
  }

  /**
   * Changed states: written now (each over the revision it was read at, one script call per key
   * group), or with deferred writes kept as changed and written by a later flush(). Returns the
   * numbers another revision was found for (not written; forgotten here, so the next load reads
   * them again). A state built from the script windows' hash is always written at once (the write
   * moves the hash's fields).
   */
  async write(changed: Map<string, Loaded>): Promise<string[]> {
    if (!this.deferred || !changed.size) return this.writeNow(changed);
    const now = Date.now();
    const legacy = new Map<string, Loaded>();
    for (const [token, l] of changed) {
      if (l.legacy) {
        legacy.set(token, l);
        continue;
      }
      const blob = l.state.encode(this.scratch);
      let h = this.held.get(token);
      if (h) {
        this.held.delete(token);
        h.blob = blob;
        h.received = l.received;
        h.rv = l.rv;
      } else h = { blob, rev: l.state.rev, received: l.received, rv: l.rv };
      // most recently used last (the LRU's order)
      this.held.set(token, h);
      if (!h.dirty) {
        h.dirty = { round: this.round, since: now, at: this.eventNow, counts: [] };
        this.dirty.set(token, h);
      }
    }
    metrics.deferred.inc(changed.size - legacy.size);
    metrics.dirty.set(this.dirty.size);
    return this.writeNow(legacy);
  }

  /**
   * With deferred writes, a received call of an ended call whose caller `token` has windows waiting
   * to be written: counted once they are (true). False: count it now (the caller's windows with
   * the call's end are in Redis already).
   */
  countAfterWrite(token: string, count: CalleeEventArgs): boolean {
    const d = this.held.get(token)?.dirty;
    if (!d) return false;
    d.counts.push(count);
    return true;
  }

  /**
   * Writes the numbers changed at least DETECTOR_WINDOWS_WRITE_DELAY_MS ago (all of them when
   * `all`), each over the revision stored, then counts their ended calls' received calls. Run it in
   * exclusive(): a caller stage must not change them meanwhile. Throws when another replica wrote
   * one of them meanwhile: what this replica applied since is then unknown to Redis, so everything
   * held is dropped and the rounds not yet durable are applied again from their hand-off entries.
   */
  async flush(all: boolean): Promise<number> {
    if (!this.due(all)) return 0;
    const now = Date.now();
    const due: [string, Held][] = [];
    // In the order they were first changed: wall and event times both ascend. Past maxHeld numbers
    // waiting, the oldest are written early: a detector behind its traffic changes more numbers in
    // a delay than it holds, and each waiting one keeps its string and its received calls' counts.
    let early = 0;
    for (const [token, h] of this.dirty) {
      if (!all && !this.isDue(h.dirty as Dirty, now)) {
        if (this.dirty.size - due.length <= this.opts.maxHeld) break;
        early++;
      }
      due.push([token, h]);
    }
    if (early) metrics.early.inc(early);
    this.writingFrom = (due[0][1].dirty as Dirty).round;
    for (const [token] of due) this.dirty.delete(token);
    const byGroup = new Map<number, (string | number | Buffer)[]>();
    const ttlMs = (this.opts.historyTtlS + 86400) * 1000;
    let bytes = 0;
    for (const [token, h] of due) {
      const g = this.keys.keyGroup(token);
      let a = byGroup.get(g);
      if (!a) byGroup.set(g, (a = [ttlMs]));
      // the string carries the revision it becomes (bytes 2..5)
      h.blob.writeUInt32LE((h.rev + 1) >>> 0, 1);
      bytes += h.blob.length;
      a.push(token, h.rev, h.blob, '0');
    }
    const replies = await this.runWrites([...byGroup.keys()], byGroup);
    let conflicts = 0;
    for (const r of replies)
      for (let i = 0, f = String(r); i < f.length; i++) if (f.charCodeAt(i) === 49) conflicts++;
    if (conflicts) {
      metrics.conflicts.inc(conflicts);
      this.clear();
      throw new Error(
        `caller windows of ${conflicts} numbers were written by another replica since this one read them: ` +
          'what it applied since is dropped and applied again from the hand-off',
      );
    }
    const counts = new CalleeBatch(this.keys, {
      latenessMs: this.opts.latenessMs,
      stateTtlS: this.opts.windowTtlS ?? this.opts.historyTtlS,
      familiarTtlS: this.opts.familiarTtlS,
      historyTtlS: this.opts.historyTtlS,
    });
    for (const [, h] of due) {
      h.rev = (h.rev + 1) >>> 0;
      const d = h.dirty as Dirty;
      h.dirty = undefined;
      for (const c of d.counts) counts.add(c);
    }
    if (counts.size) await this.scripts.run(counts.calls());
    this.writingFrom = Infinity;
    metrics.written.inc(due.length);
    metrics.bytes.inc(bytes);
    metrics.dirty.set(this.dirty.size);
    this.evict();
    return due.length;
  }

  /** caller-state-write-1.lua, one call per key group with that group's arguments; replies in order. */
  private runWrites(groups: number[], args: Map<number, (string | number | Buffer)[]>): Promise<unknown[]> {
    return this.scripts.run(
      groups.map((g) => ({
        script: 'caller-state-write' as const,
        keys: [this.keys.groupStem(g)],
        args: args.get(g) as (string | number | Buffer)[],
      })),
    );
  }

  private async writeNow(changed: Map<string, Loaded>): Promise<string[]> {
    if (!changed.size) return [];
    const byGroup = new Map<number, string[]>();
    const args = new Map<number, (string | number | Buffer)[]>();
    const ttlMs = (this.opts.historyTtlS + 86400) * 1000;
    const blobs = new Map<string, Buffer>();
    let bytes = 0;
    for (const [token, l] of changed) {
      const g = this.keys.keyGroup(token);
      let a = args.get(g);
      if (!a) {
        args.set(g, (a = [ttlMs]));
        byGroup.set(g, []);
      }
      const read = l.state.rev;
      l.state.rev = (read + 1) >>> 0;
      const blob = l.state.encode(this.scratch);
      blobs.set(token, blob);
      bytes += blob.length;
      a.push(token, read, blob, l.legacy ? '1' : '0');
      (byGroup.get(g) as string[]).push(token);
    }
    const groups = [...byGroup.keys()];
    const replies = await this.runWrites(groups, args);
    const conflicts: string[] = [];
    groups.forEach((g, c) => {
      const flags = String(replies[c]);
      (byGroup.get(g) as string[]).forEach((token, x) => {
        const l = changed.get(token) as Loaded;
        if (flags.charCodeAt(x) === 49) {
          conflicts.push(token);
          this.held.delete(token);
          this.decoded.delete(token);
        } else {
          l.legacy = false;
          this.held.delete(token);
          this.held.set(token, {
            blob: blobs.get(token) as Buffer,
            rev: l.state.rev,
            received: l.received,
            rv: l.rv,
          });
        }
      });
    });
    metrics.written.inc(changed.size - conflicts.length);
    metrics.conflicts.inc(conflicts.length);
    metrics.bytes.inc(bytes);
    this.evict();
    return conflicts;
  }

  /** Numbers read but not changed stay held too (their string is what Redis has). */
  keep(token: string, l: Loaded): void {
    if (l.legacy) return; // built from the script's hash: written (moved) before it is held
    if (!this.held.has(token))
      this.held.set(token, {
        blob: l.state.encode(this.scratch),
        rev: l.state.rev,
        received: l.received,
        rv: l.rv,
      });
  }

  /** Forgets numbers past the bound, least recently used first. */
  evict(): void {
    const over = this.held.size - this.opts.maxHeld;
    if (over <= 0) return;
    let n = 0;
    for (const [token, h] of this.held) {
      if (n >= over) break;
      // a number waiting to be written stays (it is recent: the LRU's end)
      if (h.dirty) continue;
      this.held.delete(token);
      n++;
    }
    metrics.evicted.inc(n);
  }

  /**
   * Forgets the numbers held that wait for no write (run in exclusive()): after this replica took
   * partitions over, whose numbers another replica may have written since this one held them.
   */
  forgetWritten(): void {
    for (const [token, h] of this.held) if (!h.dirty) this.held.delete(token);
    metrics.held.set(this.held.size);
  }

  /**
   * Forgets every number (tests; a replica that must not trust what it holds), those waiting to be
   * written too: the rounds that changed them are never durable and are applied again.
   */
  clear(): void {
    this.held.clear();
    this.decoded.clear();
    if (this.dirty.size || this.writingFrom !== Infinity) this.lost = this.round;
    this.dirty.clear();
    this.writingFrom = Infinity;
    metrics.dirty.set(0);
  }

  /** The round's counters and the held-state gauge into the metrics. */
  observe(): void {
    for (const [source, n] of Object.entries(this.counts)) {
      if (!n) continue;
      metrics.reads.inc({ source }, n);
      this.counts[source as keyof typeof this.counts] = 0;
    }
    metrics.held.set(this.held.size);
  }
}

/** A round's caller-notes-1.lua calls, one per key group; replies two flag characters per attempt. */
export class CallerNotes {
  private readonly args = new Map<number, (string | number)[]>();
  /** group -> flag characters asked so far */
  private readonly flags = new Map<number, number>();
  private replies = new Map<number, string>();

  constructor(
    private readonly keys: RedisKeys,
    famTtlS: number,
    private readonly head: (string | number)[] = [famTtlS],
  ) {}

  /**
   * A new attempt; returns its reference ([group, offset of its two flags]). `call` is the call's
   * fingerprint: asked again for the same call (a replay), the script answers as the first time.
   */
  attempt(token: string, callee: string, day: number, firstOfDay: boolean, call: string): [number, number] {
    const g = this.keys.keyGroup(token);
    this.argsOf(g).push(firstOfDay ? 'A' : 'a', token, callee, day, fnv1a32(call));
    const at = this.flags.get(g) ?? 0;
    this.flags.set(g, at + 2);
    return [g, at];
  }

  /** An ended call that talked long enough to make the pair familiar. */
  talked(token: string, callee: string): void {
    this.argsOf(this.keys.keyGroup(token)).push('t', token, callee, 0, 0);
  }

  private argsOf(g: number): (string | number)[] {
    let a = this.args.get(g);
    if (!a) this.args.set(g, (a = [...this.head]));
    return a;
  }

  calls(): { calls: ScriptCall[]; decode: (replies: unknown[]) => void } {
    const groups = [...this.args.keys()];
    return {
      calls: groups.map((g) => ({
        script: 'caller-notes' as const,
        keys: [this.keys.groupStem(g)],
        args: this.args.get(g) as (string | number)[],
      })),
      decode: (replies) => {
        this.replies = new Map(groups.map((g, c) => [g, String(replies[c])]));
      },
    };
  }

  /** Whether an attempt's callee was new for the number's day (two booleans, not a pair: asked per attempt). */
  newDistinct(ref: [number, number]): boolean {
    return (this.replies.get(ref[0]) ?? '').charCodeAt(ref[1]) === 49;
  }

  /** Whether the number had never called an attempt's callee. */
  newEver(ref: [number, number]): boolean {
    return (this.replies.get(ref[0]) ?? '').charCodeAt(ref[1] + 1) === 49;
  }
}

/**
 * Reads of numbers' windows at a time (op 'r' of caller-batch-1.lua), for the callee stage and the
 * sweep: the same add/calls/decode as a CallerBatch of reads, so a stage sends them in the round
 * trip of its other scripts.
 */
export class CallerReads {
  private readonly items: { token: string; carrier: string; t: number }[] = [];
  private groups: [Want, string][][] = [];
  private index = new Map<string, Want>();
  /** what was held of each number when the reads were sent (its revision was asked about) */
  private heldAtSend = new Map<string, Readonly<Held>>();

  constructor(private readonly states: CallerStates) {}

  add(e: { token: string; carrierId: string; t: number }): BatchRef {
    this.items.push({ token: e.token, carrier: e.carrierId, t: e.t });
    return this.items.length;
  }

  calls(): ScriptCall[] {
    for (const it of this.items) {
      const w = this.index.get(it.token);
      if (w) {
        if (!w.carriers.includes(it.carrier)) w.carriers.push(it.carrier);
        continue;
      }
      // a number this replica holds is read only when Redis has another revision of it
      const h = this.states.heldOf(it.token);
      if (h) this.heldAtSend.set(it.token, h);
      this.index.set(it.token, {
        token: it.token,
        carriers: [it.carrier],
        fresh: true,
        stateRev: h ? h.rev : -2,
        rv: h ? h.rv : -1,
      });
    }
    const r = this.states.readCalls(this.index.values());
    this.groups = r.groups;
    return r.calls;
  }

  decode(replies: unknown[]): { event(ref: BatchRef): CallerReply } {
    type Read = { state: CallerState | null; received: ReceivedCalls; lists: Map<string, [string, string]> };
    const byToken = new Map<string, Read>();
    this.groups.forEach((items, c) => {
      const parts = parseRead(replies[c] as Buffer, items.length);
      items.forEach(([w, carrier], x) => {
        const p = parts[x];
        let e = byToken.get(w.token);
        if (!e) {
          const h = this.heldAtSend.get(w.token);
          if (p.same && h) {
            // the held state is what Redis has: no string sent, none decoded
            e = {
              state: this.states.stored(h.blob, null),
              received: p.rv === h.rv ? h.received : receivedOf(p.fields).received,
              lists: new Map(),
            };
          } else {
            const { received, legacy } = receivedOf(p.fields);
            e = { state: this.states.stored(p.blob, legacy ? p.fields : null), received, lists: new Map() };
          }
          byToken.set(w.token, e);
        }
        e.lists.set(carrier, p.lists);
      });
    });
    const items = this.items;
    return {
      event(ref: BatchRef): CallerReply {
        const it = items[ref - 1];
        const e = byToken.get(it.token);
        const windows = emptyWindows(it.t);
        if (e?.state) e.state.read(it.t, windows);
        receivedInto(e?.received ?? NO_RECEIVED, it.t, windows);
        const l = e?.lists.get(it.carrier);
        windows.listGlobal = l?.[0] ?? '';
        windows.listCarrier = l?.[1] ?? '';
        return { status: CallerStatus.Read, wm: e?.state?.wm ?? 0, mask: 0, windows };
      },
    };
  }
}

/** The detector-kept caller windows when the options ask for them (callerWindows 'node'), else null. */
export function createCallerStates(
  scripts: DetectorScripts,
  keys: RedisKeys,
  o: DetectionOptions,
): CallerStates | null {
  if (o.callerWindows !== 'node') return null;
  return new CallerStates(
    scripts,
    keys,
    {
      latenessMs: o.latenessMs,
      longCallS: LONG_CALL_S,
      historyTtlS: o.historyTtlS,
      familiarTtlS: o.familiarTtlS,
      maxHeld: o.callerStatesHeld ?? 50_000,
      writeDelayMs: o.callerWriteDelayMs ?? 0,
      windowTtlS: o.windowTtlS,
    },
    (fields, opts) => callerStateFromHash(new Map(fields), opts),
  );
}
