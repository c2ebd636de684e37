import { ingestV1 } from '@eagle-eye/contracts';
import { classifyPseudonym } from '@eagle-eye/pseudonym';
import { benchToken, letters, TrafficModel } from './traffic';

const { CallEventBatch, CallEventType } = ingestV1;

describe('synthetic traffic', () => {
  it('makes well-formed pseudonym tokens that never look like clear numbers', () => {
    for (const i of [0, 1, 51, 52, 999_999, 2 ** 40]) {
      const t = benchToken('lt', 'AbCdEf', i);
      expect(classifyPseudonym(t)).toBe('ok');
      expect(t).not.toMatch(/\d{6}/);
    }
    expect(letters(53, 3)).toBe('ABB');
    expect(() => letters(52 ** 3, 3)).toThrow(/does not fit/);
    expect(() => benchToken('lt', 'abc', 1)).toThrow(/6 letters/);
  });

  it('sends every background call as attempt, answer, end in event-time order, with unique event ids', () => {
    const m = new TrafficModel({
      mode: 'background',
      populationSpace: 'AbCdBg',
      runTag: 'Test',
      population: 1000,
      ringS: 1,
      talkS: [2, 3],
    });
    const seen = new Set<string>();
    const byCall = new Map<string, ingestV1.CallEvent[]>();
    const t0 = 1_800_000_000_000;
    for (let k = 0; k < 100; k++) {
      const events = m.batch(50, t0 + k * 100);
      expect(events).toHaveLength(50);
      // What the generator sends decodes to what the model made.
      expect(CallEventBatch.decode(CallEventBatch.encode({ sequence: k, events }).finish()).events).toEqual(
        events,
      );
      for (const e of events) {
        expect(seen.has(e.eventId)).toBe(false);
        seen.add(e.eventId);
        expect(e.caller).not.toBe(e.callee);
        expect(e.eventTimeMs).toBe(t0 + k * 100);
        byCall.set(e.callId, [...(byCall.get(e.callId) ?? []), e]);
      }
    }
    const ended = [...byCall.values()].filter((l) => l.some((e) => e.type === CallEventType.CALL_ENDED));
    expect(ended.length).toBeGreaterThan(100);
    for (const l of ended) {
      expect(l.map((e) => e.type)).toEqual([
        CallEventType.CALL_ATTEMPT,
        CallEventType.CALL_ANSWERED,
        CallEventType.CALL_ENDED,
      ]);
      expect(l[1].eventTimeMs - l[0].eventTimeMs).toBeGreaterThanOrEqual(1000);
      expect(l[2].talkDurationS).toBeGreaterThan(0);
    }
  });

  it('keeps each caller to a few regular contacts (background traffic must not look like fan-out)', () => {
    const m = new TrafficModel({
      mode: 'background',
      populationSpace: 'AbCdBg',
      runTag: 'Test',
      population: 50,
      contactsPerNumber: 4,
    });
    const contacts = new Map<string, Set<string>>();
    for (let k = 0; k < 200; k++) {
      for (const e of m.batch(20, 1_800_000_000_000 + k * 1000)) {
        if (e.type !== CallEventType.CALL_ATTEMPT) continue;
        contacts.set(e.caller, (contacts.get(e.caller) ?? new Set()).add(e.callee));
      }
    }
    for (const s of contacts.values()) expect(s.size).toBeLessThanOrEqual(4);
  });

  it('answers probe calls two seconds after the attempt and reports their send time', () => {
    const m = new TrafficModel({
      mode: 'background',
      populationSpace: 'AbCdBg',
      runTag: 'Test',
      population: 1000,
      instantProbesPerS: 2,
      stepProbes: 1,
    });
    const t0 = 1_800_000_000_000;
    const probeEvents: ingestV1.CallEvent[] = [];
    for (let k = 0; k < 40; k++)
      probeEvents.push(...m.batch(10, t0 + k * 100).filter((e) => e.callId.startsWith('p.')));
    const answered = probeEvents.filter((e) => e.type === CallEventType.CALL_ANSWERED);
    expect(m.probeSends.length).toBe(answered.length);
    expect(m.probeSends.length).toBeGreaterThanOrEqual(4);
    for (const p of m.probeSends) {
      const attempt = probeEvents.find((e) => e.callId === p.callId && e.type === CallEventType.CALL_ATTEMPT);
      expect(p.answeredSendMs - (attempt?.eventTimeMs ?? 0)).toBeGreaterThanOrEqual(2000);
    }
    expect(m.probeSends.filter((p) => p.kind === 'step')).toHaveLength(1);
  });

  it('stops fresh-pair traffic after maxCalls, two new numbers per call', () => {
    const m = new TrafficModel({
      mode: 'fresh-pairs',
      populationSpace: 'AbCdMm',
      runTag: 'Test',
      population: 0,
      maxCalls: 10,
    });
    const events = [
      ...m.batch(12, 1_800_000_000_000),
      ...m.batch(12, 1_800_000_001_000),
      ...m.batch(12, 1_800_000_002_000),
    ];
    expect(events).toHaveLength(30);
    expect(m.done).toBe(true);
    expect(new Set(events.flatMap((e) => [e.caller, e.callee])).size).toBe(20);
  });
});
