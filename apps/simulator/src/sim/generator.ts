import { ingestV1 } from '@eagle-eye/contracts';
import { City, EXTERNAL_BASE, Subscriber } from './city';
import { GroundTruthRecord, HookedRecord, ScamKind } from './ground-truth';
import { MinHeap } from './heap';
import {
  AgeBandName,
  CarrierId,
  CARRIERS,
  FanoutProfile,
  FRAUD,
  FRAUD_PROFILE,
  HOOK_SUSCEPTIBILITY,
  HOUR_PROFILE,
  HOUR_PROFILE_MAX,
  localHour,
  NORMAL,
  TrapKind,
  TRAPS,
} from './model';
import { hash32, mix32, Prng } from './prng';
import { ScenarioConfig } from './scenarios';

const { CallEventType, CallerClass, CallerIdVerification, AgeBand } = ingestV1;
type CallEvent = ingestV1.CallEvent;

/** One event as a carrier streams it, with the carrier whose credentials send it. */
export interface SimEvent {
  carrierId: CarrierId;
  event: CallEvent;
}

export interface GeneratorOptions {
  seed: number;
  /** distinguishes runs on one stack (event and call ids must be new for ingest to take them) */
  runId: string;
  subscribers: number;
  scenario: ScenarioConfig;
  /** simulated time of the start, epoch ms */
  startMs: number;
  /** simulated duration in ms; Infinity runs for ever (the demo) */
  durationMs: number;
  /** salt of the simulator's pseudonym keys; defaults to the seed */
  keySalt?: string;
  /** start of the measured window (the evaluation's warm-up ends here); defaults to startMs */
  measureFromMs?: number;
  /**
   * Start of the live part after a history import (the demo): traffic before it is the city's
   * recent past, scam numbers' fan-out included, but nobody is hooked in it; the scripted victims
   * (`forcedHooks`) and the romance scammers' calls are timed from here. Defaults to startMs.
   */
  liveFromMs?: number;
  /**
   * The scripted victims wait for `armForcedHooks` (the demo arms them once its history import is
   * in, so the first victim is on the line `firstAtS` after that, whatever the import took).
   */
  deferForcedHooks?: boolean;
  /**
   * What the scam groups' random stream derives from (with the seed). Defaults to runId, so repeated
   * runs on one stack meet new victims; an evaluation that must give the same figures for a seed
   * passes a fixed key (the scam numbers' tokens still come from runId, so event ids stay new).
   */
  scamKey?: string;
}

type ClassName = 'MOBILE' | 'FIXED' | 'VIRTUAL_OPERATOR' | 'INTERNATIONAL' | 'SERVICE';
type Att = 'A' | 'B' | 'C' | 'UNVERIFIED';

interface Party {
  /** city index (subscribers below size, external numbers above EXTERNAL_BASE) */
  index: number;
  country?: string;
}

interface CallSpec {
  carrierId: CarrierId;
  caller: Party;
  callee: Party;
  cls: ClassName;
  country: string;
  att: Att;
  mismatch: boolean;
  region: string;
  age: AgeBandName;
  device?: { index: number; n: number };
  attemptMs: number;
  ringS: number;
  talkS: number;
}

interface CallOut {
  callId: string;
  caller: string;
  callee: string;
  attemptMs: number;
  answeredMs: number | null;
  endedMs: number;
}

const CLASS: Record<ClassName, ingestV1.CallerClass> = {
  MOBILE: CallerClass.MOBILE,
  FIXED: CallerClass.FIXED,
  VIRTUAL_OPERATOR: CallerClass.VIRTUAL_OPERATOR,
  INTERNATIONAL: CallerClass.INTERNATIONAL,
  SERVICE: CallerClass.SERVICE,
};
const ATT: Record<Att, ingestV1.CallerIdVerification> = {
  A: CallerIdVerification.ATTESTATION_A,
  B: CallerIdVerification.ATTESTATION_B,
  C: CallerIdVerification.ATTESTATION_C,
  UNVERIFIED: CallerIdVerification.UNVERIFIED,
};
const AGE: Record<AgeBandName, ingestV1.AgeBand> = {
  UNDER_18: AgeBand.AGE_UNDER_18,
  '18_28': AgeBand.AGE_18_28,
  '29_45': AgeBand.AGE_29_45,
  '46_64': AgeBand.AGE_46_64,
  '65_PLUS': AgeBand.AGE_65_PLUS,
  UNKNOWN: AgeBand.AGE_UNKNOWN,
};

const OVERSEAS_COUNTRIES = ['KH', 'MM', 'PH', 'MY', 'TH', 'VN', 'LA'];
const PREMIUM_COUNTRIES = [
  ['TN', '216'],
  ['GN', '224'],
  ['SB', '677'],
  ['MV', '960'],
] as const;

interface Task {
  /** fires at `t` and returns when it wants to fire next (Infinity: never again) */
  fire(t: number): number;
}

/**
 * The discrete-event generator. Tasks (normal traffic, each bulk caller kind, each scam group)
 * create calls at their start; a call's events go into a time-ordered heap, and `next()` hands out
 * events in event-time order. Memory is bounded by the calls in progress, not by the city's size.
 */
export class Generator {
  readonly city: City;
  private readonly tasks = new MinHeap<Task>();
  private readonly events = new MinHeap<SimEvent>();
  private readonly horizonMs: number;
  private callSeq = 0;
  /** scam numbers are new in every run (the city and its bulk callers stay the same per seed) */
  readonly scamBase: number;
  private readonly seenSuspects = new Set<string>();
  private finished = false;
  /**
   * Events at or after this simulated time are held back: `peekTime()` answers Infinity and
   * `next()` undefined until it is raised (the demo streams its history import up to the live
   * start this way, then goes on from the same generator).
   */
  holdFromMs = Infinity;
  readonly liveFromMs: number;
  private forcedHooks?: ForcedHooks;
  readonly stats = {
    events: 0,
    calls: 0,
    legitCalls: 0,
    legitAnsweredCalls: 0,
    legitCallsMeasured: 0,
    scamCalls: 0,
    hookedEpisodes: 0,
    lastEventMs: 0,
  };

  constructor(
    readonly opts: GeneratorOptions,
    private readonly sink: (r: GroundTruthRecord) => void = () => undefined,
  ) {
    if (!/^[A-Za-z0-9-]{1,20}$/.test(opts.runId)) throw new Error('runId: 1-20 of [A-Za-z0-9-]');
    this.city = new City(opts.subscribers, opts.seed, opts.keySalt ?? String(opts.seed));
    this.horizonMs = opts.startMs + opts.durationMs;
    this.liveFromMs = Math.max(opts.startMs, opts.liveFromMs ?? opts.startMs);
    this.scamBase = EXTERNAL_BASE + 100_000_000 + (hash32(opts.runId) % 400) * 200_000;
    sink({
      type: 'run',
      scenario: opts.scenario.name,
      seed: opts.seed,
      runId: opts.runId,
      subscribers: opts.subscribers,
      startMs: opts.startMs,
      horizonMs: Number.isFinite(this.horizonMs) ? this.horizonMs : null,
      ...(opts.measureFromMs !== undefined && opts.measureFromMs > opts.startMs
        ? { measureFromMs: opts.measureFromMs }
        : {}),
    });
    const root = new Prng(mix32(opts.seed, 0xca11));
    const t0 = opts.startMs;
    if (opts.scenario.normalTraffic !== false)
      this.schedule(t0, new NormalTraffic(this, root.fork('normal')));
    if (opts.scenario.traps)
      TRAPS.forEach((k, i) => this.schedule(t0, new TrapTraffic(this, root.fork(`trap-${k.kind}`), k, i)));
    const sc = opts.scenario;
    // scams differ per run (new numbers, new victims) so repeated runs on one stack do not meet the
    // detector's memory of the previous run's victims; the city and its bulk callers stay per seed
    const scams = new Prng(mix32(opts.seed, hash32(opts.scamKey ?? opts.runId)));
    const groups: ScamGroup[] = [];
    let g = 0;
    for (let i = 0; i < sc.fanoutRings; i++)
      groups.push(new RingGroup(this, scams.fork(`ring-${i}`), 'fanout', g++));
    for (let i = 0; i < sc.overseasGroups; i++)
      groups.push(new RingGroup(this, scams.fork(`overseas-${i}`), 'overseas', g++));
    for (let i = 0; i < sc.simFarms; i++)
      groups.push(new RingGroup(this, scams.fork(`farm-${i}`), 'simfarm', g++));
    for (let i = 0; i < sc.wangiriNumbers; i++)
      groups.push(new WangiriGroup(this, scams.fork(`wangiri-${i}`), g++));
    for (let i = 0; i < sc.romanceScammers; i++)
      groups.push(new RomanceGroup(this, scams.fork(`romance-${i}`), g++));
    for (const grp of groups) this.schedule(grp.start(t0), grp);
    if (sc.forcedHooks) {
      this.forcedHooks = new ForcedHooks(this, groups, sc);
      if (!opts.deferForcedHooks) this.armForcedHooks(this.liveFromMs);
    }
  }

  /**
   * Starts the scripted victims: the first `firstAtS` after `fromMs` (never before the live start),
   * then every `everyS`. Once only; returns the first one's simulated time (undefined: none).
   */
  armForcedHooks(fromMs: number): number | undefined {
    const f = this.scenario.forcedHooks;
    if (!f || !this.forcedHooks) return undefined;
    const at = Math.max(fromMs, this.liveFromMs) + f.firstAtS * 1000;
    this.schedule(at, this.forcedHooks);
    this.forcedHooks = undefined;
    return at;
  }

  get scenario(): ScenarioConfig {
    return this.opts.scenario;
  }

  private schedule(t: number, task: Task): void {
    if (Number.isFinite(t)) this.tasks.push(t, task);
  }

  /** the next event in event-time order, or undefined when the run is over (or held) */
  next(): SimEvent | undefined {
    if (this.peekTime() === Infinity) return undefined;
    const e = this.events.pop()!;
    this.stats.events++;
    this.stats.lastEventMs = e.event.eventTimeMs;
    return e;
  }

  /**
   * Simulated time of the next event without consuming it: Infinity when none is left, or when
   * it lies at or after `holdFromMs`. Tasks (new calls) due before the next event fire first.
   */
  peekTime(): number {
    for (;;) {
      const te = this.events.peekKey();
      const tt = this.tasks.peekKey();
      if (te === Infinity && tt === Infinity) {
        this.finish();
        return Infinity;
      }
      if (te <= tt) return te < this.holdFromMs ? te : Infinity;
      if (tt >= this.holdFromMs) return Infinity;
      const task = this.tasks.pop()!;
      if (tt >= this.horizonMs) continue; // no new calls past the horizon; calls in progress finish
      this.schedule(task.fire(tt), task);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.sink({ type: 'summary', ...this.stats, hookedEpisodes: this.stats.hookedEpisodes });
  }

  subscriber(index: number): Subscriber {
    return this.city.subscriber(index);
  }

  randomSubscriber(rng: Prng): Subscriber {
    return this.city.subscriber(rng.int(this.city.size));
  }

  tokenOf(carrierId: CarrierId, p: Party): string {
    return this.city.token(carrierId, p.index, p.country);
  }

  /** Creates a call: its events go into the heap; returns the ids and times the call got. */
  call(spec: CallSpec): CallOut {
    const id = `${this.opts.runId}-${(this.callSeq++).toString(36)}`;
    const caller = this.tokenOf(spec.carrierId, spec.caller);
    const callee = this.tokenOf(spec.carrierId, spec.callee);
    const attemptMs = Math.round(spec.attemptMs);
    const answered = spec.talkS > 0;
    const answeredMs = answered ? attemptMs + Math.round(spec.ringS * 1000) : null;
    const talkS = Math.round(spec.talkS);
    const endedMs =
      answeredMs !== null ? answeredMs + talkS * 1000 : attemptMs + Math.round(spec.ringS * 1000);
    const common: Omit<CallEvent, 'eventId' | 'type' | 'eventTimeMs' | 'talkDurationS' | 'releaseCause'> = {
      callId: id,
      caller,
      callee,
      callerClass: CLASS[spec.cls],
      callerCountry: spec.country,
      callerIdVerified: ATT[spec.att],
      callerDisplayMismatch: spec.mismatch,
      calleeRegion: spec.region,
      calleeCell: '',
      callerDevice: spec.device
        ? this.city.deviceToken(spec.carrierId, spec.device.index, spec.device.n)
        : '',
      calleeAgeBand: AGE[spec.age],
    };
    const c = spec.carrierId;
    const ev = (type: ingestV1.CallEventType, suffix: string, t: number, talk = 0, cause = ''): void =>
      this.events.push(t, {
        carrierId: c,
        event: {
          ...common,
          eventId: `${id}.${suffix}`,
          type,
          eventTimeMs: t,
          talkDurationS: talk,
          releaseCause: cause,
        },
      });
    ev(CallEventType.CALL_ATTEMPT, 'a', attemptMs);
    if (answeredMs !== null) ev(CallEventType.CALL_ANSWERED, 'n', answeredMs);
    ev(CallEventType.CALL_ENDED, 'e', endedMs, answered ? talkS : 0, answered ? '16' : '19');
    this.stats.calls++;
    return { callId: id, caller, callee, attemptMs, answeredMs, endedMs };
  }

  legitCall(spec: CallSpec): CallOut {
    const out = this.call(spec);
    this.stats.legitCalls++;
    if (out.attemptMs >= (this.opts.measureFromMs ?? this.opts.startMs)) this.stats.legitCallsMeasured++;
    if (out.answeredMs !== null) this.stats.legitAnsweredCalls++;
    return out;
  }

  /** A scam call, recorded in the ground truth. `victimIsCaller` for call-backs. */
  scamCall(kind: ScamKind, group: string, spec: CallSpec, hooked: boolean, victimIsCaller = false): CallOut {
    const out = this.call(spec);
    this.stats.scamCalls++;
    const victim = victimIsCaller ? out.caller : out.callee;
    const suspect = victimIsCaller ? out.callee : out.caller;
    const key = `${spec.carrierId}/${suspect}`;
    if (!this.seenSuspects.has(key)) {
      this.seenSuspects.add(key);
      this.sink({ type: 'scammer', scenario: kind, group, carrierId: spec.carrierId, token: suspect });
    }
    this.sink({
      type: 'scam_call',
      scenario: kind,
      group,
      carrierId: spec.carrierId,
      callId: out.callId,
      caller: out.caller,
      callee: out.callee,
      victim,
      suspect,
      attemptMs: out.attemptMs,
      answeredMs: out.answeredMs,
      endedMs: out.endedMs,
      talkS: out.answeredMs !== null ? Math.round(spec.talkS) : 0,
      hooked,
    });
    return out;
  }

  hookedEpisode(r: Omit<HookedRecord, 'type'>): void {
    this.stats.hookedEpisodes++;
    this.sink({ type: 'hooked', ...r });
  }

  trapSeen(kind: TrapKind, carrierId: CarrierId, token: string): void {
    const key = `${carrierId}/${token}`;
    if (this.seenSuspects.has(key)) return;
    this.seenSuspects.add(key);
    this.sink({ type: 'trap', kind: kind.kind, carrierId, token, whitelisted: kind.whitelisted });
  }
}

/** One ordinary call decision; shared by the generator and the calibration (which skips tokens). */
export interface NormalCall {
  caller: Subscriber;
  callee: Subscriber;
  device: number;
  ringS: number;
  /** 0 when unanswered */
  talkS: number;
}

/** Candidate call starts per ms at the peak hour for the most active subscriber (thinned after). */
export function normalCandidatesPerMs(city: City): number {
  return (city.size * NORMAL.activityCap * NORMAL.outgoingPerDay * HOUR_PROFILE_MAX) / 86_400_000;
}

/** Draws one candidate at time t: a call, or null when thinning rejects it. */
export function drawNormalCall(city: City, rng: Prng, t: number): NormalCall | null {
  const caller = city.subscriber(rng.int(city.size));
  const accept = (caller.activity / NORMAL.activityCap) * (HOUR_PROFILE[localHour(t)] / HOUR_PROFILE_MAX);
  if (rng.next() >= accept) return null;
  const calleeIndex = rng.chance(NORMAL.strangerShare)
    ? rng.int(city.size)
    : city.contact(caller.index, city.contactRank(caller.contacts, rng.next()), rng.chance(0.5) ? 1 : 0);
  if (calleeIndex === caller.index) return null;
  const answered = rng.chance(NORMAL.answerRate);
  return {
    caller,
    callee: city.subscriber(calleeIndex),
    device: rng.int(caller.devices),
    ringS: answered ? rng.range(3, 15) : rng.range(15, 40),
    talkS: answered ? Math.max(1, Math.round(rng.lognormal(NORMAL.talkMedianS, NORMAL.talkSigma))) : 0,
  };
}

/** Ordinary subscribers calling their contacts, with the city's daily rhythm. */
class NormalTraffic implements Task {
  private readonly candidatesPerMs: number;

  constructor(
    private readonly gen: Generator,
    private readonly rng: Prng,
  ) {
    this.candidatesPerMs = normalCandidatesPerMs(gen.city);
  }

  fire(t: number): number {
    const c = drawNormalCall(this.gen.city, this.rng, t);
    if (c)
      this.gen.legitCall({
        carrierId: c.callee.carrierId,
        caller: { index: c.caller.index },
        callee: { index: c.callee.index },
        cls: 'MOBILE',
        country: 'CN',
        att: 'A',
        mismatch: false,
        region: c.callee.region,
        age: c.callee.ageBand,
        device: { index: c.caller.index, n: c.device },
        attemptMs: t,
        ringS: c.ringS,
        talkS: c.talkS,
      });
    return t + this.rng.exp(1 / this.candidatesPerMs);
  }
}

function nextOpenTime(t: number, firstHour: number, lastHour: number): number {
  const h = localHour(t);
  if (h >= firstHour && h < lastHour) return t;
  const hourStart = t - (t % 3_600_000);
  const ahead = (firstHour - h + 24) % 24 || 24;
  return hourStart + ahead * 3_600_000;
}

/** How many numbers a bulk-caller kind has in a city of `size`, and the city index of the j-th. */
export function trapNumbers(
  size: number,
  kindIndex: number,
): { count: number; index: (j: number) => number } {
  const count = Math.max(1, Math.round((TRAPS[kindIndex].per100k * size) / 100_000));
  return { count, index: (j) => EXTERNAL_BASE + 10_000_000 * (kindIndex + 1) + j };
}

/** Couriers, banks, hospitals, hotlines, telemarketing, ride-hailing: many distinct short calls. */
class TrapTraffic implements Task {
  private readonly numbers: number;
  private readonly perMs: number;

  constructor(
    private readonly gen: Generator,
    private readonly rng: Prng,
    private readonly kind: TrapKind,
    private readonly kindIndex: number,
  ) {
    this.numbers = trapNumbers(gen.city.size, kindIndex).count;
    this.perMs = (this.numbers * kind.callsPerDay) / ((kind.lastHour - kind.firstHour) * 3_600_000);
  }

  fire(t: number): number {
    const open = nextOpenTime(t, this.kind.firstHour, this.kind.lastHour);
    if (open > t) return open;
    const rng = this.rng;
    const k = this.kind;
    const number = trapNumbers(this.gen.city.size, this.kindIndex).index(rng.int(this.numbers));
    const callee = this.gen.randomSubscriber(rng);
    const answered = rng.chance(k.answerRate);
    const out = this.gen.legitCall({
      carrierId: callee.carrierId,
      caller: { index: number },
      callee: { index: callee.index },
      cls: k.callerClass,
      country: 'CN',
      att: k.attestation,
      mismatch: false,
      region: callee.region,
      age: callee.ageBand,
      device: k.callerClass === 'MOBILE' ? { index: number, n: 0 } : undefined,
      attemptMs: t,
      ringS: answered ? rng.range(3, 12) : rng.range(10, 30),
      talkS: answered ? Math.max(1, rng.lognormal(k.talkMedianS, k.talkSigma)) : 0,
    });
    this.gen.trapSeen(k, callee.carrierId, out.caller);
    return t + rng.exp(1 / this.perMs);
  }
}

interface ScamGroup extends Task {
  kind: ScamKind;
  start(t0: number): number;
  /** makes the next answered call a hooked one (the demo's schedule) */
  forceHook(t: number): void;
}

interface ScamNumber {
  index: number;
  country: string;
  cls: ClassName;
  att: Att;
  device?: { index: number; n: number };
  attemptsLeft: number;
  /** calls this number made so far, per carrier that carried them (what each carrier has seen) */
  calls: Record<string, number>;
}

/**
 * A ring of numbers dialling strangers: a call-centre ring (police impersonation), an overseas
 * centre behind spoofed displays, or a SIM farm (one handset, many SIMs). A few answered calls
 * become long; the victim is then handed over to a second (and third) number of the ring.
 */
class RingGroup implements ScamGroup {
  private readonly numbers: ScamNumber[] = [];
  private readonly id: string;
  private nextNumberIndex: number;
  private readonly country: string;
  private readonly devices: number;
  private readonly perMs: number;
  private readonly deviceIndex: number;
  private readonly profile: FanoutProfile;
  private forced = 0;

  constructor(
    private readonly gen: Generator,
    private readonly rng: Prng,
    readonly kind: 'fanout' | 'overseas' | 'simfarm',
    groupIndex: number,
  ) {
    this.id = `${kind}-${groupIndex}`;
    this.deviceIndex = gen.scamBase + 150_000 + groupIndex;
    this.nextNumberIndex = gen.scamBase + groupIndex * 1000;
    this.country = kind === 'overseas' ? rng.pick(OVERSEAS_COUNTRIES) : 'CN';
    this.devices = kind === 'simfarm' ? 1 : rng.range(FRAUD.devicesPerRing[0], FRAUD.devicesPerRing[1]);
    const size =
      kind === 'simfarm' ? rng.range(20, 50) : kind === 'overseas' ? rng.range(4, 10) : rng.range(3, 6);
    for (let i = 0; i < size; i++) this.numbers.push(this.newNumber());
    const sc = gen.scenario;
    this.profile = sc.fanoutProfile ?? FRAUD_PROFILE;
    // a SIM farm spreads one centre's volume over its SIMs; a ring's numbers each dial at the CSV's
    // rate per call-centre hour (around the clock when the scenario is not held to working hours)
    const hourly =
      (rng.lognormal(this.profile.attemptsPerDayMedian, this.profile.attemptsPerDaySigma) /
        (FRAUD.lastHour - FRAUD.firstHour)) *
      sc.attemptRateScale;
    this.perMs = ((kind === 'simfarm' ? Math.min(size, 8) : size) * hourly) / 3_600_000;
  }

  private newNumber(): ScamNumber {
    const rng = this.rng;
    const index = this.nextNumberIndex++;
    const lifetime = Math.max(
      10,
      Math.round(
        rng.lognormal(this.gen.scenario.numberLifetimeAttempts, this.kind === 'simfarm' ? 0.5 : 0.7) /
          (this.kind === 'simfarm' ? 5 : 1),
      ),
    );
    switch (this.kind) {
      case 'fanout': {
        const virtual = rng.chance(0.4);
        return {
          index,
          country: '86',
          cls: virtual ? 'VIRTUAL_OPERATOR' : 'MOBILE',
          att: virtual ? 'B' : 'A',
          device: { index: this.deviceIndex, n: 0 },
          attemptsLeft: lifetime,
          calls: {},
        };
      }
      case 'overseas':
        // the display is a domestic-looking number; the network knows the call came from abroad
        return {
          index,
          country: '86',
          cls: 'INTERNATIONAL',
          att: rng.chance(0.6) ? 'C' : 'UNVERIFIED',
          attemptsLeft: lifetime,
          calls: {},
        };
      case 'simfarm':
        return {
          index,
          country: '86',
          cls: 'MOBILE',
          att: 'A',
          device: { index: this.deviceIndex, n: 0 },
          attemptsLeft: lifetime,
          calls: {},
        };
      default: {
        const never: never = this.kind;
        throw new Error(`unknown ring kind ${String(never)}`);
      }
    }
  }

  start(t0: number): number {
    return t0 + this.rng.exp(1 / this.perMs);
  }

  forceHook(t: number): void {
    this.forced++;
    this.fire(t);
  }

  fire(t: number): number {
    const rng = this.rng;
    const sc = this.gen.scenario;
    if (sc.workingHoursOnly) {
      const open = nextOpenTime(t, FRAUD.firstHour, FRAUD.lastHour);
      if (open > t) return open;
    }
    const forced = this.forced > 0;
    const pf = this.profile;
    let ni: number;
    let victim: Subscriber;
    if (forced) {
      // the demo's script: the ring's number the carriers have seen call most gets the victim, on
      // that carrier (the history import made its fan-out visible there); the scheduled victims live
      // in the two demo police regions (Chengdu, Mianyang: the first 46 % of the city's index range),
      // so the police consoles see them too
      const [best, carrier] = this.busiest();
      ni = best;
      victim = this.gen.subscriber(rng.int(Math.floor(this.gen.city.size * 0.46)));
      for (let k = 0; k < 64 && carrier && victim.carrierId !== carrier; k++)
        victim = this.gen.subscriber(rng.int(Math.floor(this.gen.city.size * 0.46)));
    } else {
      ni = rng.int(this.numbers.length);
      victim = this.gen.randomSubscriber(rng);
    }
    const num = this.numbers[ni];
    if (--num.attemptsLeft <= 0) this.numbers[ni] = this.newNumber(); // dropped and replaced
    const answered = forced || rng.chance(pf.answerRate);
    // nobody is hooked in a history import: it shows the numbers' fan-out, not old victims
    const hooked =
      forced ||
      (answered &&
        rng.chance(Math.min(1, sc.hookRate * HOOK_SUSCEPTIBILITY[victim.ageBand])) &&
        t >= this.gen.liveFromMs);
    if (forced) this.forced--;
    if (hooked) this.hook(t, num, victim, forced);
    else {
      const talk = answered
        ? Math.min(240, Math.max(2, rng.lognormal(FRAUD.nuisanceTalkMedianS, FRAUD.nuisanceTalkSigma)))
        : 0;
      const out = this.gen.scamCall(
        this.kind,
        this.id,
        this.spec(num, victim, t, answered ? rng.range(3, 10) : rng.range(3, 5), talk),
        false,
      );
      if (out.answeredMs !== null && rng.chance(pf.redialShare)) {
        // the same number tries the same person again later ("we were cut off")
        const again = rng.chance(pf.answerRate);
        this.gen.scamCall(
          this.kind,
          this.id,
          this.spec(
            num,
            victim,
            out.endedMs + rng.range(10, 60) * 60_000,
            again ? rng.range(3, 10) : rng.range(3, 5),
            again
              ? Math.min(240, Math.max(2, rng.lognormal(FRAUD.nuisanceTalkMedianS, FRAUD.nuisanceTalkSigma)))
              : 0,
          ),
          false,
        );
      }
      if (out.answeredMs !== null && rng.chance(FRAUD.callbackShare)) {
        // the callee rings back to ask who called: a short call the other way round
        this.gen.scamCall(
          this.kind,
          this.id,
          {
            carrierId: victim.carrierId,
            caller: { index: victim.index },
            callee: { index: num.index, country: num.country },
            cls: 'MOBILE',
            country: 'CN',
            att: 'A',
            mismatch: false,
            region: victim.region,
            age: 'UNKNOWN',
            device: { index: victim.index, n: 0 },
            attemptMs: out.endedMs + rng.range(60, 1800) * 1000,
            ringS: rng.range(3, 8),
            talkS: rng.range(8, 40),
          },
          false,
          true,
        );
      }
    }
    return t + rng.exp(1 / this.perMs);
  }

  /** index of the number with the most calls seen by one carrier, and that carrier */
  private busiest(): [number, CarrierId | undefined] {
    let best = 0;
    let carrier: CarrierId | undefined;
    let most = 0;
    this.numbers.forEach((n, i) => {
      for (const c of CARRIERS)
        if ((n.calls[c.id] ?? 0) > most) {
          most = n.calls[c.id];
          best = i;
          carrier = c.id;
        }
    });
    return [best, carrier];
  }

  private spec(
    num: ScamNumber,
    victim: Subscriber,
    t: number,
    ringS: number,
    talkS: number,
    scripted = false,
  ): CallSpec {
    num.calls[victim.carrierId] = (num.calls[victim.carrierId] ?? 0) + 1;
    // number-changing software: the display is a domestic mobile number (so that is the class the
    // switch reports) while the call entered from abroad; the rest show an honest foreign number.
    // The demo's scripted overseas victims see the software at work (what the kind is about).
    const spoofed = this.kind === 'overseas' && (this.rng.chance(0.7) || scripted);
    return {
      carrierId: victim.carrierId,
      caller: { index: num.index, country: num.country },
      callee: { index: victim.index },
      cls: spoofed ? 'MOBILE' : num.cls,
      country: this.kind === 'overseas' ? this.country : 'CN',
      att: num.att,
      mismatch: spoofed,
      region: victim.region,
      age: victim.ageBand,
      // ring members swap handsets (CSV: a median 2 IMEIs per fraud number); a farm has one
      device: num.device && {
        index: num.device.index,
        n: this.kind === 'fanout' ? this.rng.int(this.devices) : 0,
      },
      attemptMs: t,
      ringS,
      talkS,
    };
  }

  /** A police-impersonation episode: a long first call, then hand-over to other numbers of the ring. */
  private hook(t: number, first: ScamNumber, victim: Subscriber, forced: boolean): void {
    const rng = this.rng;
    const calls: HookedRecord['calls'] = [];
    let at = t;
    let num = first;
    let victimToken = '';
    const legs = 1 + (rng.chance(0.7) ? 1 : 0) + (rng.chance(0.3) ? 1 : 0);
    for (let leg = 0; leg < legs; leg++) {
      const talk = leg === 0 ? rng.range(8 * 60, 30 * 60) : rng.range(10 * 60, 40 * 60);
      const out = this.gen.scamCall(
        this.kind,
        this.id,
        this.spec(num, victim, at, rng.range(3, 10), talk, forced && leg === 0),
        true,
      );
      calls.push({
        callId: out.callId,
        suspect: out.caller,
        answeredMs: out.answeredMs!,
        endedMs: out.endedMs,
      });
      victimToken = out.callee;
      at = out.endedMs + rng.range(15, 90) * 1000;
      if (this.numbers.length > 1) {
        const others = this.numbers.filter((n) => n !== num);
        num = rng.pick(others);
      }
    }
    this.gen.hookedEpisode({
      scenario: this.kind,
      group: this.id,
      carrierId: victim.carrierId,
      victim: victimToken,
      region: victim.region,
      ageBand: victim.ageBand,
      answeredMs: calls[0].answeredMs,
      endedMs: calls[calls.length - 1].endedMs,
      calls,
      ...(forced ? { forced: true } : {}),
    });
  }
}

/** One-ring numbers abroad: many unanswered rings, a few curious call-backs to a premium line. */
class WangiriGroup implements ScamGroup {
  readonly kind = 'callback' as const;
  private readonly id: string;
  private readonly index: number;
  private readonly country: string;
  private readonly dial: string;
  private readonly perMs: number;
  private forced = 0;

  constructor(
    private readonly gen: Generator,
    private readonly rng: Prng,
    groupIndex: number,
  ) {
    this.id = `callback-${groupIndex}`;
    this.index = gen.scamBase + 160_000 + groupIndex;
    const [country, dial] = rng.pick(PREMIUM_COUNTRIES);
    this.country = country;
    this.dial = dial;
    const [lo, hi] = gen.scenario.wangiriAttemptsPerHour ?? [120, 400];
    this.perMs = rng.range(lo, hi) / 3_600_000;
  }

  start(t0: number): number {
    return t0 + this.rng.exp(1 / this.perMs);
  }

  forceHook(t: number): void {
    this.forced++;
    this.fire(t);
  }

  fire(t: number): number {
    const rng = this.rng;
    const victim = this.gen.randomSubscriber(rng);
    const scammer = { index: this.index, country: this.dial };
    const ring = this.gen.scamCall(
      'callback',
      this.id,
      {
        carrierId: victim.carrierId,
        caller: scammer,
        callee: { index: victim.index },
        cls: 'INTERNATIONAL',
        country: this.country,
        att: rng.chance(0.5) ? 'C' : 'UNVERIFIED',
        mismatch: false,
        region: victim.region,
        age: victim.ageBand,
        attemptMs: t,
        ringS: rng.range(1, 3),
        talkS: 0,
      },
      false,
    );
    const forced = this.forced > 0;
    if (forced) this.forced--;
    if (forced || rng.chance(0.04 * HOOK_SUSCEPTIBILITY[victim.ageBand])) {
      // nobody is hooked in a history import (see RingGroup.fire)
      const hooked = forced || (rng.chance(0.5) && t >= this.gen.liveFromMs);
      const spec: CallSpec = {
        carrierId: victim.carrierId,
        caller: { index: victim.index },
        callee: scammer,
        cls: 'MOBILE',
        country: 'CN',
        att: 'A',
        mismatch: false,
        region: victim.region,
        age: 'UNKNOWN',
        device: { index: victim.index, n: 0 },
        attemptMs: ring.endedMs + (forced ? 5 : rng.range(20, 900)) * 1000,
        ringS: rng.range(2, 5),
        // a premium line keeps a hooked caller on hold music and "prize" talk for minutes
        talkS: hooked ? rng.range(4 * 60, 12 * 60) : rng.range(10, 50),
      };
      const out = this.gen.scamCall('callback', this.id, spec, hooked, true);
      if (hooked)
        this.gen.hookedEpisode({
          scenario: 'callback',
          group: this.id,
          carrierId: victim.carrierId,
          victim: out.caller,
          region: victim.region,
          ageBand: victim.ageBand,
          answeredMs: out.answeredMs!,
          endedMs: out.endedMs,
          calls: [
            { callId: out.callId, suspect: out.callee, answeredMs: out.answeredMs!, endedMs: out.endedMs },
          ],
          ...(forced ? { forced: true } : {}),
        });
    }
    return t + rng.exp(1 / this.perMs);
  }
}

/** An investment/romance scammer: long daily calls to the same one to three victims. */
class RomanceGroup implements ScamGroup {
  readonly kind = 'romance' as const;
  private readonly id: string;
  private readonly index: number;
  private readonly victims: Subscriber[] = [];
  /** next call time per victim */
  private readonly due: number[] = [];

  constructor(
    private readonly gen: Generator,
    private readonly rng: Prng,
    groupIndex: number,
  ) {
    this.id = `romance-${groupIndex}`;
    this.index = gen.scamBase + 170_000 + groupIndex;
    const n = rng.range(1, 3);
    for (let i = 0; i < n; i++) this.victims.push(gen.randomSubscriber(rng));
  }

  start(t0: number): number {
    // each victim's first call of the run falls somewhere in the first hour or the first day (of
    // the live part: a history import holds no hooked victim)
    const from = Math.max(t0, this.gen.liveFromMs);
    const spread = Math.min((this.gen.opts.startMs + this.gen.opts.durationMs - from) * 0.7, 86_400_000);
    for (let i = 0; i < this.victims.length; i++) this.due.push(from + this.rng.next() * spread);
    return Math.min(...this.due);
  }

  private forcedNow = false;

  forceHook(t: number): void {
    this.due[0] = t;
    this.forcedNow = true;
    this.fire(t);
    this.forcedNow = false;
  }

  fire(t: number): number {
    const rng = this.rng;
    const i = this.due.indexOf(Math.min(...this.due));
    if (this.due[i] > t) return this.due[i]; // a forced call moved the schedule
    const victim = this.victims[i];
    const talk = rng.range(15 * 60, 80 * 60);
    const out = this.gen.scamCall(
      'romance',
      this.id,
      {
        carrierId: victim.carrierId,
        caller: { index: this.index },
        callee: { index: victim.index },
        cls: 'MOBILE',
        country: 'CN',
        att: 'A',
        mismatch: false,
        region: victim.region,
        age: victim.ageBand,
        device: { index: this.index, n: 0 },
        attemptMs: t,
        ringS: rng.range(3, 8),
        talkS: talk,
      },
      true,
    );
    this.gen.hookedEpisode({
      scenario: 'romance',
      group: this.id,
      carrierId: victim.carrierId,
      victim: out.callee,
      region: victim.region,
      ageBand: victim.ageBand,
      answeredMs: out.answeredMs!,
      endedMs: out.endedMs,
      calls: [{ callId: out.callId, suspect: out.caller, answeredMs: out.answeredMs!, endedMs: out.endedMs }],
      ...(this.forcedNow ? { forced: true } : {}),
    });
    this.due[i] = t + 86_400_000 + (rng.next() - 0.5) * 4 * 3_600_000;
    return Math.min(...this.due);
  }
}

/** The demo's schedule: a victim on the line early, then every `everyS`, rotating scam kinds. */
class ForcedHooks implements Task {
  private n = 0;

  constructor(
    private readonly gen: Generator,
    private readonly groups: ScamGroup[],
    private readonly sc: ScenarioConfig,
  ) {}

  fire(t: number): number {
    const f = this.sc.forcedHooks!;
    const kind = f.kinds[this.n++ % f.kinds.length];
    const candidates = this.groups.filter((g) => g.kind === kind);
    if (candidates.length) candidates[this.n % candidates.length].forceHook(t);
    return t + f.everyS * 1000;
  }
}
