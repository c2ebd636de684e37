import { Inject, Injectable, Optional } from '@nestjs/common';
import { HandoffEntry, HandoffEvent } from '@eagle-eye/contracts';
import { failSpan, linksTo, startSpan } from '@eagle-eye/observability';
import type { Span } from '@opentelemetry/api';
import { AlertJob } from '../detection/alert.publisher';
import { callFp, numberFp } from '../detection/fingerprint';
import { BatchRef } from '../lua/caller-args';
import { CallerStatus, CallMask } from '../lua/caller-reply';
import type { ModelSource } from '../scoring/model-registry';
import { scoreCaller, suspectSeverity } from '../scoring/score';
import { num } from '@eagle-eye/rules';
import { Severity } from '@eagle-eye/contracts';
import { CallerState, emptyWindows, StateEvent } from '@eagle-eye/scoring';
import { CallerStates, Loaded, receivedInto } from '../windows/caller-states';
import { WindowsRepository } from '../windows/windows.repository';
import { AlertJobs } from './alert-jobs';
import {
  BatchStats,
  CALLER_STATES,
  callerEvent,
  facts,
  MODEL_SOURCE,
  RULE_SOURCE,
  RuleSource,
  Staged,
  Work,
} from './work';

const DAY = 86_400_000;
/** rounds of reading and re-applying the numbers whose write found another replica's revision */
const MAX_REAPPLY = 5;

const TYPE_CODE = { ATTEMPT: 'A', ANSWERED: 'N', ENDED: 'E' } as const;

function malformed(ev: HandoffEvent): boolean {
  return (
    typeof ev !== 'object' ||
    ev === null ||
    (ev.type !== 'ATTEMPT' && ev.type !== 'ANSWERED' && ev.type !== 'ENDED') ||
    !Number.isSafeInteger(ev.t) ||
    ev.t <= 0 ||
    (ev.talk !== undefined && !(Number.isSafeInteger(ev.talk) && ev.talk >= 0)) ||
    typeof ev.caller !== 'string' ||
    typeof ev.callee !== 'string' ||
    typeof ev.call !== 'string' ||
    !ev.caller ||
    !ev.callee ||
    !ev.call
  );
}

/** The end of an unanswered call: it changed no counter and is given no windows to score. */
function unscored(w: Work): boolean {
  return (
    w.status === CallerStatus.Applied && w.ev.type === 'ENDED' && !w.ev.talk && !(w.mask & CallMask.Answered)
  );
}

/** Whether the works are in event-time order already (one partition's round usually is). */
function inTimeOrder(works: Work[]): boolean {
  for (let i = 1; i < works.length; i++) if (works[i].ev.t < works[i - 1].ev.t) return false;
  return true;
}

/**
 * First stage of a round: the caller (and device) scripts of every event, caller scores and
 * suspect-number alerts. The consumer runs it for the next round while the previous round is in
 * the callee stage; both stages keep round order, so a call's events stay in order.
 */
@Injectable()
export class CallerStage {
  constructor(
    private readonly windows: WindowsRepository,
    @Inject(RULE_SOURCE) private readonly rules: RuleSource,
    private readonly alerts: AlertJobs,
    @Optional() @Inject(MODEL_SOURCE) private readonly models?: ModelSource,
    /** DETECTOR_CALLER_WINDOWS=node: the windows in the detector (else caller-batch-1.lua's) */
    @Optional() @Inject(CALLER_STATES) private readonly states?: CallerStates,
  ) {}

  async apply(entries: HandoffEntry[]): Promise<Staged> {
    const stats: BatchStats = { applied: 0, duplicate: 0, late: 0, malformed: 0, alerts: 0 };
    const works: Work[] = [];
    for (const entry of entries) {
      const rules = this.rules.forCarrier(entry.carrierId);
      const trace = entry.trace;
      for (const ev of entry.events) {
        if (malformed(ev)) {
          stats.malformed++;
          continue;
        }
        works.push({
          carrierId: entry.carrierId,
          ev,
          rules,
          callFp: callFp(entry.carrierId, ev.call),
          callerFp: numberFp(ev.caller),
          calleeFp: numberFp(ev.callee),
          status: CallerStatus.Applied,
          mask: 0,
          sims: 0,
          trace,
        });
      }
    }
    if (!works.length) return { works, stats, jobs: [], suspectKeys: [] };
    // one span per round, linked to the batches (traces) whose entries it applies
    const span = startSpan('detector.round', {
      links: linksTo(entries.map((e) => e.trace)),
      attributes: { 'eagleeye.round.entries': entries.length, 'eagleeye.round.events': works.length },
    });
    try {
      const states = this.states;
      if (states) {
        return await states.exclusive(async () => {
          try {
            return await this.applyNode(states, works, stats, span);
          } catch (e) {
            // what this replica holds may be ahead of Redis (applied, not written): read it all again
            states.clear();
            throw e;
          }
        });
      }
      return await this.applyScripts(works, stats, span);
    } catch (e) {
      failSpan(span, e);
      throw e;
    }
  }

  private async applyScripts(works: Work[], stats: BatchStats, span: Span): Promise<Staged> {
    // Entries of several partitions arrive together: apply them in event-time order (stable, so
    // the events of one call keep ingest's order when their times tie).
    if (!inTimeOrder(works)) works.sort((a, b) => a.ev.t - b.ev.t);
    const observingSince = await this.windows.observingSince(works[0].ev.t);
    const jobs: AlertJob[] = [];
    const suspectKeys: string[] = [];

    // caller windows and device SIMs: one script call per key group for the whole round
    const batch = this.windows.newCallerBatch();
    // each work's reply references (numbers; 0: the event names no handset)
    const refs: BatchRef[] = [];
    const deviceRefs: BatchRef[] = [];
    for (const w of works) {
      refs.push(batch.add(callerEvent('a', w.ev.t, w, TYPE_CODE[w.ev.type])));
      deviceRefs.push(
        w.ev.device ? batch.addDevice(w.ev.device, w.ev.type === 'ATTEMPT' ? w.callerFp : '') : 0,
      );
    }
    const r1 = await this.windows.runCallers(batch);
    for (let i = 0; i < works.length; i++) {
      const w = works[i];
      const ref = refs[i];
      const device = deviceRefs[i];
      if (device) w.sims = r1.sims(device);
      w.status = r1.status(ref);
      if (w.status === CallerStatus.Late) {
        stats.late++;
        continue;
      }
      if (w.status === CallerStatus.Duplicate) stats.duplicate++;
      else stats.applied++;
      w.mask = r1.mask(ref);
      if (unscored(w)) continue;
      const windows = r1.event(ref).windows;
      w.caller = scoreCaller(w.rules, windows, facts(w), observingSince, this.models);
      const sev = suspectSeverity(w.rules, w.caller);
      if (sev) this.alerts.suspect(w, windows.region, sev, jobs, suspectKeys);
    }

    return { works, stats, jobs, suspectKeys, span };
  }

  /**
   * The caller stage with the windows in the detector (CallerStates): read the round's numbers
   * (held ones: only their received calls and lists), note the new attempts' callees and the
   * handsets' SIMs, apply and score every event in Node, then write the changed windows, each over
   * the revision it was read at. A number another replica wrote meanwhile is read again and its
   * events re-applied; suspect alerts are decided once every write has gone through.
   */
  private async applyNode(
    states: CallerStates,
    works: Work[],
    stats: BatchStats,
    span: Span,
  ): Promise<Staged> {
    if (!inTimeOrder(works)) works.sort((a, b) => a.ev.t - b.ev.t);
    const round = states.beginRound(works[works.length - 1].ev.t);
    const observingSince = await this.windows.observingSince(works[0].ev.t);
    const pairs = (ws: Work[]) => ws.map((w): [string, string] => [w.ev.caller, w.carrierId]);
    // the numbers this replica does not hold are read first (their state decides what is new);
    // those it holds are read with the round's notes, in one round trip
    const heldPairs: [string, string][] = [];
    const missingPairs: [string, string][] = [];
    for (const w of works)
      (states.holds(w.ev.caller) ? heldPairs : missingPairs).push([w.ev.caller, w.carrierId]);
    const loaded = missingPairs.length ? await states.load(missingPairs) : new Map<string, Loaded>();
    const heldRead = states.plan(heldPairs);
    const stateOf = (tok: string): CallerState => loaded.get(tok)?.state ?? states.heldState(tok);

    // the new events, decided on the state as the round moves it: their callees noted in Redis
    const notes = states.notes();
    const asked = new Array<[number, number] | undefined>(works.length);
    const wmNow = new Map<string, number>();
    const seen = new Map<string, number>();
    /** numbers whose day TTLs this round's notes set ('A'): to be set again if the notes fail */
    const firsts: [string, number][] = [];
    const late = this.windows.latenessMs;
    for (let i = 0; i < works.length; i++) {
      const w = works[i];
      const tok = w.ev.caller;
      const s = stateOf(tok);
      const wm = wmNow.get(tok) ?? s.wm;
      const bit =
        w.ev.type === 'ATTEMPT'
          ? CallMask.Attempt
          : w.ev.type === 'ANSWERED'
            ? CallMask.Answered
            : CallMask.Ended;
      const mask = seen.get(w.callFp) ?? s.guards.get(w.callFp)?.mask ?? 0;
      if (mask & bit || (wm > 0 && w.ev.t < wm - late)) continue;
      seen.set(w.callFp, mask | bit);
      if (w.ev.t > wm) wmNow.set(tok, w.ev.t);
      if (w.ev.type === 'ATTEMPT') {
        const day = Math.floor(w.ev.t / DAY);
        const first = states.firstOfDay(tok, day);
        if (first) firsts.push([tok, day]);
        asked[i] = notes.attempt(tok, w.calleeFp, day, first, w.callFp);
      } else if (w.ev.type === 'ENDED' && (w.ev.talk ?? 0) >= num(w.rules.familiar, 'minTalkS')) {
        notes.talked(tok, w.calleeFp);
      }
    }
    // the handsets' distinct SIMs (caller-batch-1.lua with handset operations only), same round trip
    const devices = this.windows.newCallerBatch();
    const deviceRefs = works.map((w) =>
      w.ev.device ? devices.addDevice(w.ev.device, w.ev.type === 'ATTEMPT' ? w.callerFp : '') : 0,
    );
    const noted = notes.calls();
    const deviceCalls = devices.calls();
    let replies: unknown[];
    try {
      replies = await this.windows.runScripts([...heldRead.calls, ...noted.calls, ...deviceCalls]);
    } catch (e) {
      // the round is read again; its first attempts must set the day's familiarity TTL then (a
      // hash whose TTL was lost would otherwise keep none until its next new callee)
      for (const [tok, day] of firsts) states.forgetFirstOfDay(tok, day);
      throw e;
    }
    const a = heldRead.calls.length;
    const b = a + noted.calls.length;
    for (const [tok, l] of heldRead.decode(replies.slice(0, a))) loaded.set(tok, l);
    noted.decode(replies.slice(a, b));
    const sims = devices.decode(replies.slice(b));
    for (let i = 0; i < works.length; i++) if (deviceRefs[i]) works[i].sims = sims.sims(deviceRefs[i]);

    const severities = new Array<Severity | null>(works.length).fill(null);
    const regions = new Array<string>(works.length);
    const changed = new Map<string, Loaded>();
    const apply = (only: Set<string> | null) => {
      for (let i = 0; i < works.length; i++) {
        const w = works[i];
        if (only && !only.has(w.ev.caller)) continue;
        const l = loaded.get(w.ev.caller) as Loaded;
        const s = l.state;
        const ask = asked[i];
        const ev: StateEvent = {
          t: w.ev.t,
          type: TYPE_CODE[w.ev.type],
          call: w.callFp,
          talkS: w.ev.talk ?? 0,
          shortCallS: num(w.rules.alert_policy, 'shortCallS'),
          region: w.ev.region ?? '',
          device: w.ev.device && w.ev.type === 'ATTEMPT' ? numberFp(w.ev.device) : '',
          newDistinct: ask ? notes.newDistinct(ask) : false,
          newEver: ask ? notes.newEver(ask) : false,
        };
        const bit = ev.type === 'A' ? CallMask.Attempt : ev.type === 'N' ? CallMask.Answered : CallMask.Ended;
        const prior = s.guards.get(w.callFp)?.mask ?? 0;
        const windows = emptyWindows(w.ev.t);
        w.status = s.apply(ev, windows) as CallerStatus;
        w.mask =
          w.status === CallerStatus.Applied ? prior | bit : w.status === CallerStatus.Duplicate ? prior : 0;
        w.caller = undefined;
        severities[i] = null;
        if (w.status === CallerStatus.Applied) changed.set(w.ev.caller, l);
        if (w.status === CallerStatus.Late) continue;
        if (unscored(w)) continue;
        const lists = l.lists.get(w.carrierId);
        windows.listGlobal = lists?.[0] ?? '';
        windows.listCarrier = lists?.[1] ?? '';
        receivedInto(l.received, windows.at, windows);
        w.caller = scoreCaller(w.rules, windows, facts(w), observingSince, this.models);
        severities[i] = suspectSeverity(w.rules, w.caller);
        regions[i] = windows.region;
      }
    };
    apply(null);
    for (const [tok, l] of loaded) if (!changed.has(tok)) states.keep(tok, l);
    let conflicts = await states.write(changed);
    for (let k = 0; conflicts.length; k++) {
      if (k >= MAX_REAPPLY)
        throw new Error(
          `caller windows of ${conflicts.length} numbers kept changing under this round: retried`,
        );
      const again = new Set(conflicts);
      const reread = await states.load(pairs(works.filter((w) => again.has(w.ev.caller))), true);
      for (const [tok, l] of reread) loaded.set(tok, l);
      changed.clear();
      apply(again);
      conflicts = await states.write(changed);
    }
    states.observe();
    // with deferred writes: the numbers changed long enough ago (a conflict throws: apply() drops
    // what is held, and the rounds not yet durable are applied again)
    await states.flush(false);

    const jobs: AlertJob[] = [];
    const suspectKeys: string[] = [];
    for (let i = 0; i < works.length; i++) {
      const w = works[i];
      if (w.status === CallerStatus.Late) stats.late++;
      else if (w.status === CallerStatus.Duplicate) stats.duplicate++;
      else stats.applied++;
      const sev = severities[i];
      if (sev) this.alerts.suspect(w, regions[i], sev, jobs, suspectKeys);
    }
    return { works, stats, jobs, suspectKeys, span, round };
  }

  /**
   * Whether everything the caller stage of `round` (Staged.round) changed is in Redis, so that its
   * hand-off entries may be acknowledged (always, unless caller windows writes are deferred).
   */
  durable(round: number | undefined): boolean {
    return round === undefined || !this.states || this.states.durable(round);
  }

  /** Whether flushWindows(all) has anything to write now. */
  windowsDue(all: boolean): boolean {
    return !!this.states && this.states.due(all);
  }

  /** Forgets the caller windows held that wait for no write (partitions were taken over). */
  async forgetHeld(): Promise<void> {
    const states = this.states;
    if (states) await states.exclusive(async () => states.forgetWritten());
  }

  /**
   * Writes the caller windows that wait (deferred writes): those changed long enough ago, or all.
   * A failure drops what is held, as a failed round does.
   */
  async flushWindows(all: boolean): Promise<number> {
    const states = this.states;
    if (!states?.due(all)) return 0;
    return states.exclusive(async () => {
      try {
        return await states.flush(all);
      } catch (e) {
        states.clear();
        throw e;
      }
    });
  }
}
