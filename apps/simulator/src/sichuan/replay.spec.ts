import { createHash } from 'node:crypto';
import { ingestV1, validateCallEvent } from '@eagle-eye/contracts';
import { heldOut, buildReplay, carrierOf, eventsHash, ReplaySource } from './replay';
import { foldOf, NumberProfile } from './profile';

const DAY = 86_400_000;
const BASE = Date.UTC(2026, 0, 5);

/** Twenty hand-made numbers: every other one fraud-like (many new counterparts, outgoing, long-ish calls). */
function profiles(): NumberProfile[] {
  return Array.from({ length: 20 }, (_, i) => {
    const fraud = i % 2 === 0;
    return {
      id: createHash('sha256').update(`number-${i}`).digest('hex').repeat(2),
      fraud,
      calls: fraud ? 300 : 200,
      counterparts: fraud ? 240 : 30,
      outShare: fraud ? 0.97 : 0.5,
      dayOfMonthCount: fraud ? 6 : 25,
      busiestDayCalls: fraud ? 80 : 20,
      months: fraud ? 1 : 6,
      durMean: fraud ? 200 : 90,
      durMedian: fraud ? 60 : 40,
      durMax: 3000,
      hourCount: 8,
      hourMode: 10,
      imeis: fraud ? 2 : 1,
    };
  });
}

const opts = { seed: 1, folds: 5, fold: 0, days: 2, baseMs: BASE, runId: 'r1' };

describe('Sichuan replay', () => {
  const ps = profiles();

  it('the same seed gives the same events (hash of every field of every event)', () => {
    const a = buildReplay(ps, opts);
    const b = buildReplay(ps, opts);
    expect(a.events.length).toBeGreaterThan(100);
    expect(eventsHash(a.events)).toBe(eventsHash(b.events));
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('another seed gives other events; the run id and the day only rename and shift them', () => {
    const a = buildReplay(ps, opts);
    expect(buildReplay(ps, { ...opts, seed: 2 }).fingerprint).not.toBe(a.fingerprint);
    const other = buildReplay(ps, { ...opts, runId: 'r2', baseMs: BASE + 3 * DAY });
    expect(other.fingerprint).toBe(a.fingerprint);
    expect(eventsHash(other.events)).not.toBe(eventsHash(a.events));
    expect(other.events.map((e) => e.event.eventTimeMs - 3 * DAY)).toEqual(
      a.events.map((e) => e.event.eventTimeMs),
    );
  });

  it('replays exactly the held-out fold', () => {
    const r = buildReplay(ps, opts);
    const want = ps.filter((p) => foldOf(p.id, 5, 1) === 0).length;
    expect(want).toBeGreaterThan(0);
    expect(r.numbers.length).toBe(want);
    expect(heldOut(ps, opts).map((h) => h.index)).toEqual(r.numbers.map((n) => n.index));
    const all = [0, 1, 2, 3, 4].reduce((s, fold) => s + buildReplay(ps, { ...opts, fold }).numbers.length, 0);
    expect(all).toBe(ps.length);
  });

  it('every event passes the ingest validator: pseudonym tokens, no spoofing hints', () => {
    const r = buildReplay(ps, { ...opts, fold: 1 });
    const now = r.endMs + 60_000;
    for (const { event } of r.events) {
      const v = validateCallEvent(event, now, { maxFutureSkewMs: 5000, maxAgeMs: 10 * DAY });
      expect(v).toHaveProperty('id', event.eventId);
      expect(event.callerClass).toBe(ingestV1.CallerClass.MOBILE);
      expect(event.callerCountry).toBe('CN');
      expect(event.callerIdVerified).toBe(ingestV1.CallerIdVerification.ATTESTATION_A);
      expect(event.callerDisplayMismatch).toBe(false);
      expect(event.calleeAgeBand).toBe(ingestV1.AgeBand.AGE_UNKNOWN);
      expect(event.callId.startsWith('r1-')).toBe(true);
    }
  });

  it('each call is ATTEMPT, ANSWERED, ENDED with its talk, events in time order', () => {
    const r = buildReplay(ps, opts);
    const byCall = new Map<string, ingestV1.CallEvent[]>();
    let last = -Infinity;
    for (const { event } of r.events) {
      expect(event.eventTimeMs).toBeGreaterThanOrEqual(last);
      last = event.eventTimeMs;
      byCall.set(event.callId, [...(byCall.get(event.callId) ?? []), event]);
    }
    expect(byCall.size).toBe(r.calls.length);
    for (const c of r.calls) {
      const evs = byCall.get(c.callId)!;
      expect(evs.map((e) => e.type)).toEqual([
        ingestV1.CallEventType.CALL_ATTEMPT,
        ingestV1.CallEventType.CALL_ANSWERED,
        ingestV1.CallEventType.CALL_ENDED,
      ]);
      expect(evs.map((e) => e.eventTimeMs)).toEqual([c.startMs, c.answerMs, c.endMs]);
      expect(evs[2].talkDurationS).toBe(c.talkS);
      expect(c.endMs - c.answerMs).toBe(c.talkS * 1000);
      // a number and its counterparts report through the number's carrier
      expect(evs.every((e) => e.callerDevice !== '')).toBe(true);
    }
    // fraud callers are the fraud numbers' outgoing calls only
    const fraudTokens = new Set(r.numbers.filter((n) => n.fraud).map((n) => n.token));
    for (const c of r.calls) expect(c.fraudCaller).toBe(fraudTokens.has(c.caller));
  });

  it('first active days start on a local (UTC+8) midnight and hold the number first call', () => {
    const r = buildReplay(ps, opts);
    for (const n of r.numbers) {
      expect((n.firstDayStartMs + 8 * 3_600_000) % DAY).toBe(0);
      const first = r.calls.filter((c) => c.caller === n.token || c.callee === n.token)[0];
      expect(first.startMs).toBeGreaterThanOrEqual(n.firstDayStartMs);
      expect(first.startMs).toBeLessThan(n.firstDayEndMs);
    }
  });

  it('splits numbers across the carriers deterministically, and the source hands out events in order', () => {
    const carriers = ps.map((p) => carrierOf(p.id, ['carrier-a', 'carrier-b']));
    expect(new Set(carriers).size).toBe(2);
    expect(ps.map((p) => carrierOf(p.id, ['carrier-a', 'carrier-b']))).toEqual(carriers);
    expect(ps.every((p) => carrierOf(p.id, ['carrier-b']) === 'carrier-b')).toBe(true);
    const r = buildReplay(ps, opts);
    const src = new ReplaySource(r.events);
    const out = [];
    while (src.peekTime() !== Infinity) out.push(src.next()!);
    expect(out).toEqual(r.events);
    expect(src.next()).toBeUndefined();
  });
});
