import { ingestV1 } from '@eagle-eye/contracts';

type CallEvent = ingestV1.CallEvent;
const { CallEventType, CallerClass, CallerIdVerification, AgeBand } = ingestV1;

/**
 * Synthetic call traffic for the load tools. Everything is derived from integers (call index,
 * subscriber index), so a generator keeps only small FIFO queues of call indices however many calls
 * are in progress, and two runs with the same options send the same calls.
 *
 * Pseudonym tokens are well-formed (`p1.<keyId>.<22 chars>`) and made of letters only, so they can
 * never look like a clear number.
 */
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` in base 52 with letters, left-padded to `width`. */
export function letters(n: number, width: number): string {
  let s = '';
  let v = Math.floor(n);
  do {
    s = LETTERS[v % 52] + s;
    v = Math.floor(v / 52);
  } while (v > 0);
  if (s.length > width) throw new Error(`${n} does not fit in ${width} letters`);
  return s.padStart(width, 'A');
}

/** A random tag of `width` letters: keeps the numbers and ids of separate runs apart. */
export function randomTag(width = 4): string {
  let s = '';
  for (let i = 0; i < width; i++) s += LETTERS[Math.floor(Math.random() * 52)];
  return s;
}

/** Token of subscriber `index` in space `space` (6 letters): `p1.<keyId>.<space><16 letters>`. */
export function benchToken(keyId: string, space: string, index: number): string {
  if (!/^[A-Za-z]{6}$/.test(space)) throw new Error(`token space ${space} must be 6 letters`);
  return `p1.${keyId}.${space}${letters(index, 16)}`;
}

/** 32-bit integer hash (Wang/Jenkins mix): deterministic per-call choices without a PRNG state. */
export function mix32(x: number): number {
  let h = x | 0;
  h = h ^ 61 ^ (h >>> 16);
  h = Math.imul(h, 9);
  h ^= h >>> 4;
  h = Math.imul(h, 0x27d4eb2d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** A growable FIFO of numbers (call indices) with their due times, without per-item objects. */
class Fifo {
  private idx = new Float64Array(1024);
  private due = new Float64Array(1024);
  private head = 0;
  private tail = 0;

  get size(): number {
    return this.tail - this.head;
  }

  push(index: number, dueMs: number): void {
    if (this.tail === this.idx.length) {
      const live = this.size;
      if (this.head > this.idx.length / 2) {
        this.idx.copyWithin(0, this.head, this.tail);
        this.due.copyWithin(0, this.head, this.tail);
      } else {
        const idx = new Float64Array(this.idx.length * 2);
        const due = new Float64Array(this.idx.length * 2);
        idx.set(this.idx.subarray(this.head, this.tail));
        due.set(this.due.subarray(this.head, this.tail));
        this.idx = idx;
        this.due = due;
      }
      this.head = 0;
      this.tail = live;
    }
    this.idx[this.tail] = index;
    this.due[this.tail] = dueMs;
    this.tail++;
  }

  peekDue(): number {
    return this.size > 0 ? this.due[this.head] : Infinity;
  }

  shift(): number {
    return this.idx[this.head++];
  }
}

export type ProbeKind = 'instant' | 'step';

/** A probe call whose alert the benchmark waits for. */
export interface ProbeSend {
  kind: ProbeKind;
  callId: string;
  /** intended send time of the batch carrying the ANSWERED event, epoch ms */
  answeredSendMs: number;
  /** event time of the ANSWERED event, epoch ms */
  answeredAtMs: number;
}

export interface TrafficOptions {
  /** pseudonym key id of the synthetic carrier's tokens */
  keyId?: string;
  /**
   * 'background': calls among a fixed population of subscribers, each calling a few regular
   * contacts, answered, mostly longer than a nuisance call: what must not alert.
   * 'fresh-pairs': every call between two numbers never seen before (2 new tracked numbers per call).
   */
  mode: 'background' | 'fresh-pairs';
  /** 6 letters naming the subscriber population; phases sharing it talk about the same numbers */
  populationSpace: string;
  /** 4 letters unique to this generator run: call and event ids, probe numbers */
  runTag: string;
  /** background: subscribers in the population */
  population: number;
  /** background: regular contacts each subscriber calls */
  contactsPerNumber?: number;
  /** seconds from attempt to answer (background) */
  ringS?: number;
  /** talk durations (seconds) background calls cycle through */
  talkS?: number[];
  /** calls per second that certainly alert when answered (blacklist-grade profile) */
  instantProbesPerS?: number;
  /** calls that should alert at the first duration step, spread over the first seconds of the run */
  stepProbes?: number;
  /** seconds after answer at which step probes hang up */
  stepProbeTalkS?: number;
  /** fresh-pairs: stop after this many calls (2 numbers each) */
  maxCalls?: number;
}

const REGIONS = ['510100', '510700', '510600', '510500', '510400', '510300'];

interface ProbeCall {
  kind: ProbeKind;
  callId: string;
  caller: string;
  callee: string;
  startMs: number;
  stage: 'answer' | 'end';
  dueMs: number;
}

/**
 * Produces the events of each batch for a given intended send time. Call state lives in FIFO
 * queues of call indices (one per talk duration, so each queue stays in time order).
 */
export class TrafficModel {
  readonly keyId: string;
  private readonly contacts: number;
  private readonly ringMs: number;
  private readonly talk: number[];
  private readonly answerQ = new Fifo();
  private readonly endQ: Fifo[];
  private nextCall = 0;
  /**
   * where this run's background walk starts in the population's call sequence (from its runTag):
   * every run started at call 0 once, so each phase of a benchmark called the same first callers
   * again, and after half a dozen phases within the hour those callers looked like fraud numbers
   * to the model (7 calls an hour, all outgoing) and alerted by the thousand
   */
  private readonly walkOffset: number;
  private probes: ProbeCall[] = [];
  private probeCount = 0;
  private stepProbesStarted = 0;
  private nextProbeMs = 0;
  private t0 = 0;
  readonly probeSends: ProbeSend[] = [];

  constructor(readonly opts: TrafficOptions) {
    this.keyId = opts.keyId ?? 'lt';
    this.contacts = Math.max(1, opts.contactsPerNumber ?? 4);
    this.ringMs = (opts.ringS ?? 3) * 1000;
    this.talk = opts.talkS ?? [6, 14, 25, 40];
    this.endQ = this.talk.map(() => new Fifo());
    if (!/^[A-Za-z]{4}$/.test(opts.runTag)) throw new Error('runTag must be 4 letters');
    let tag = 0;
    for (let k = 0; k < 4; k++) tag = tag * 64 + opts.runTag.charCodeAt(k);
    this.walkOffset = mix32(tag) & 0x3fffffff;
    if (opts.mode === 'background' && opts.population < 2 * this.contacts) {
      throw new Error(`population must be at least ${2 * this.contacts}`);
    }
  }

  /** true when a bounded traffic (fresh-pairs with maxCalls) has sent everything */
  get done(): boolean {
    return (
      this.opts.mode === 'fresh-pairs' &&
      this.opts.maxCalls !== undefined &&
      this.nextCall >= this.opts.maxCalls
    );
  }

  get callsStarted(): number {
    return this.nextCall;
  }

  /** background calls answered or started and not ended yet */
  get callsInProgress(): number {
    return this.answerQ.size + this.endQ.reduce((n, q) => n + q.size, 0);
  }

  subscriber(index: number): string {
    return benchToken(this.keyId, this.opts.populationSpace, index);
  }

  private callId(i: number): string {
    return `c.${this.opts.runTag}.${i.toString(36)}`;
  }

  /** The events of one batch whose intended send time is `nowMs` (also their event time). */
  batch(size: number, nowMs: number): CallEvent[] {
    if (this.t0 === 0) {
      this.t0 = nowMs;
      this.nextProbeMs = nowMs;
    }
    const out: CallEvent[] = [];
    this.emitProbes(out, size, nowMs);
    if (this.opts.mode === 'fresh-pairs') {
      while (out.length + 3 <= size && !this.done) this.freshPair(out, this.nextCall++, nowMs);
      return out;
    }
    // Calls that are due to be answered or to end go first, then new calls fill the batch.
    while (out.length < size && this.answerQ.peekDue() <= nowMs) {
      const i = this.answerQ.shift();
      out.push(this.background(i, CallEventType.CALL_ANSWERED, nowMs));
      const k = i % this.talk.length;
      this.endQ[k].push(i, nowMs + this.talk[k] * 1000);
    }
    for (let k = 0; k < this.endQ.length; k++) {
      const q = this.endQ[k];
      while (out.length < size && q.peekDue() <= nowMs) {
        out.push(this.background(q.shift(), CallEventType.CALL_ENDED, nowMs));
      }
    }
    while (out.length < size) {
      const i = this.nextCall++;
      out.push(this.background(i, CallEventType.CALL_ATTEMPT, nowMs));
      this.answerQ.push(i, nowMs + this.ringMs);
    }
    return out;
  }

  private background(i: number, type: ingestV1.CallEventType, t: number): CallEvent {
    const p = this.opts.population;
    // Call i: caller walks the population, callee is one of the caller's regular contacts.
    const w = i + this.walkOffset;
    const callerIx = mix32(w) % p;
    const contact = mix32(w ^ 0x5bd1e995) % this.contacts;
    const calleeIx = (callerIx + 1 + ((mix32(callerIx * 31 + contact) % (p - 1)) | 0)) % p;
    const callId = this.callId(i);
    const talk = this.talk[i % this.talk.length];
    return this.event(
      callId,
      type,
      t,
      this.subscriber(callerIx),
      this.subscriber(calleeIx),
      CallerClass.MOBILE,
      'CN',
      CallerIdVerification.ATTESTATION_A,
      false,
      REGIONS[calleeIx % REGIONS.length],
      AgeBand.AGE_29_45,
      type === CallEventType.CALL_ENDED ? talk : 0,
    );
  }

  private freshPair(out: CallEvent[], i: number, t: number): void {
    const space = this.opts.populationSpace;
    const caller = benchToken(this.keyId, space, 2 * i);
    const callee = benchToken(this.keyId, space, 2 * i + 1);
    const callId = this.callId(i);
    const region = REGIONS[i % REGIONS.length];
    const mk = (type: ingestV1.CallEventType, at: number, talk: number): CallEvent =>
      this.event(
        callId,
        type,
        at,
        caller,
        callee,
        CallerClass.MOBILE,
        'CN',
        CallerIdVerification.ATTESTATION_A,
        false,
        region,
        AgeBand.AGE_29_45,
        talk,
      );
    out.push(mk(CallEventType.CALL_ATTEMPT, t - 30000, 0));
    out.push(mk(CallEventType.CALL_ANSWERED, t - 25000, 0));
    out.push(mk(CallEventType.CALL_ENDED, t, 25));
  }

  private emitProbes(out: CallEvent[], size: number, nowMs: number): void {
    const rate = this.opts.instantProbesPerS ?? 0;
    const stepTotal = this.opts.stepProbes ?? 0;
    // New probes: instant ones at a steady rate, step ones spread over the first 10 seconds.
    while (rate > 0 && this.nextProbeMs <= nowMs) {
      this.startProbe('instant', nowMs, out);
      this.nextProbeMs += 1000 / rate;
    }
    while (
      this.stepProbesStarted < stepTotal &&
      this.t0 + (this.stepProbesStarted * 10000) / stepTotal <= nowMs
    ) {
      this.stepProbesStarted++;
      this.startProbe('step', nowMs, out);
    }
    if (this.probes.length === 0) return;
    const keep: ProbeCall[] = [];
    for (const p of this.probes) {
      if (p.dueMs > nowMs || out.length >= size) {
        keep.push(p);
        continue;
      }
      if (p.stage === 'answer') {
        out.push(this.probeEvent(p, CallEventType.CALL_ANSWERED, nowMs, 0));
        this.probeSends.push({ kind: p.kind, callId: p.callId, answeredSendMs: nowMs, answeredAtMs: nowMs });
        const talkS = p.kind === 'instant' ? 8 : (this.opts.stepProbeTalkS ?? 75);
        keep.push({ ...p, stage: 'end', dueMs: nowMs + talkS * 1000, startMs: nowMs });
      } else {
        out.push(this.probeEvent(p, CallEventType.CALL_ENDED, nowMs, Math.round((nowMs - p.startMs) / 1000)));
      }
    }
    this.probes = keep;
  }

  /** Sends the probe's attempt with this batch; its answer follows two seconds later. */
  private startProbe(kind: ProbeKind, t: number, out: CallEvent[]): void {
    const n = this.probeCount++;
    // Probe numbers are fresh per run: no history, no familiarity with the victim.
    const space = `${this.opts.runTag}${kind === 'instant' ? 'Pi' : 'Ps'}`;
    const p: ProbeCall = {
      kind,
      callId: `p.${this.opts.runTag}.${kind[0]}${n.toString(36)}`,
      caller: benchToken(this.keyId, space, 2 * n),
      callee: benchToken(this.keyId, space, 2 * n + 1),
      startMs: t,
      stage: 'answer',
      dueMs: t + 2000,
    };
    this.probes.push(p);
    out.push(this.probeEvent(p, CallEventType.CALL_ATTEMPT, t, 0));
  }

  private probeEvent(p: ProbeCall, type: ingestV1.CallEventType, t: number, talk: number): CallEvent {
    if (p.kind === 'instant') {
      // Every red flag a caller can carry at once: abroad but showing a domestic virtual-operator
      // number, no attestation, display mismatch, a new number, an elderly callee.
      return this.event(
        p.callId,
        type,
        t,
        p.caller,
        p.callee,
        CallerClass.VIRTUAL_OPERATOR,
        'KH',
        CallerIdVerification.UNVERIFIED,
        true,
        '510100',
        AgeBand.AGE_65_PLUS,
        talk,
      );
    }
    // Suspect enough to be watched, not enough to alert at answer: the duration steps decide.
    // Default rules: display mismatch 30 + unverified 15 = 45 makes a suspect caller (>= 40); an
    // elderly callee adds 10 for a suspect = 55, under the victim threshold (60) until the first
    // duration step (60 s, +10) lifts it to 65.
    return this.event(
      p.callId,
      type,
      t,
      p.caller,
      p.callee,
      CallerClass.MOBILE,
      'CN',
      CallerIdVerification.UNVERIFIED,
      true,
      '510100',
      AgeBand.AGE_65_PLUS,
      talk,
    );
  }

  private event(
    callId: string,
    type: ingestV1.CallEventType,
    t: number,
    caller: string,
    callee: string,
    callerClass: ingestV1.CallerClass,
    country: string,
    verified: ingestV1.CallerIdVerification,
    mismatch: boolean,
    region: string,
    age: ingestV1.AgeBand,
    talk: number,
  ): CallEvent {
    const suffix =
      type === CallEventType.CALL_ATTEMPT ? 'a' : type === CallEventType.CALL_ANSWERED ? 'n' : 'e';
    return {
      eventId: `${callId}.${suffix}`,
      callId,
      type,
      eventTimeMs: Math.round(t),
      caller,
      callee,
      callerClass,
      callerCountry: country,
      callerIdVerified: verified,
      callerDisplayMismatch: mismatch,
      calleeRegion: region,
      calleeCell: '',
      callerDevice: '',
      calleeAgeBand: age,
      talkDurationS: talk,
      releaseCause: type === CallEventType.CALL_ENDED ? '16' : '',
    };
  }
}
