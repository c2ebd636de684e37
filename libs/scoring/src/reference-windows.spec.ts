import { ReferenceWindows, ReferenceEvent } from './reference-windows';
import { LONG_CALL_S, WINDOW } from './windows';

const { bucket24h: D, day: DAY, hour: HOUR } = WINDOW;
const LATE = 120_000;
/** the start of a 2-hour bucket (and of a UTC day) */
const DAY0 = 20_460 * DAY;

const fresh = () => new ReferenceWindows({ shortCallS: 10, longCallS: LONG_CALL_S, latenessMs: LATE });
const ev = (
  t: number,
  type: ReferenceEvent['type'],
  call: string,
  callee = `${call}-x`,
  talkS = 0,
): ReferenceEvent => ({
  t,
  type,
  call,
  callee,
  talkS,
});

/** an answered call: attempt at t, answer 5 s later, end after `talkS` */
function answered(w: ReferenceWindows, t: number, call: string, talkS: number, callee?: string) {
  w.apply(ev(t, 'A', call, callee));
  w.apply(ev(t + 5000, 'N', call, callee));
  return w.apply(ev(t + 5000 + talkS * 1000, 'E', call, callee, talkS));
}

describe('ReferenceWindows', () => {
  it('counts a 2-hour bucket in the 24 hours while any part of it is inside the window', () => {
    const w = fresh();
    w.apply(ev(DAY0 + 60_000, 'A', 'c1'));
    // the bucket [DAY0, DAY0 + 2 h) overlaps (at - 24 h, at] until at reaches DAY0 + 26 h
    expect(w.read(DAY0 + DAY + D - 1)).toMatchObject({
      attempts24h: 1,
      slots24h: 1,
      distinct24h: 1,
      newEver24h: 1,
    });
    expect(w.read(DAY0 + DAY + D)).toMatchObject({
      attempts24h: 0,
      slots24h: 0,
      distinct24h: 0,
      newEver24h: 0,
    });
    // but its day is still in the 7 days
    expect(w.read(DAY0 + DAY + D)).toMatchObject({ attempts7d: 1, days7d: 1 });
  });

  it('keeps the 7-day window to the read day and the six before it', () => {
    const w = fresh();
    w.apply(ev(DAY0 + 23 * HOUR, 'A', 'c1'));
    w.apply(ev(DAY0 + 2 * DAY + HOUR, 'A', 'c2'));
    expect(w.read(DAY0 + 6 * DAY + DAY - 1)).toMatchObject({ attempts7d: 2, days7d: 2, distinct7d: 2 });
    // midnight: the first day leaves the window
    expect(w.read(DAY0 + 7 * DAY)).toMatchObject({ attempts7d: 1, days7d: 1, distinct7d: 1, newEver7d: 1 });
    expect(w.read(DAY0 + 9 * DAY)).toMatchObject({ attempts7d: 0, days7d: 0 });
  });

  it('counts a callee new for each day it is called, new-ever only the first time', () => {
    const w = fresh();
    w.apply(ev(DAY0 + HOUR, 'A', 'c1', 'bob'));
    w.apply(ev(DAY0 + 2 * HOUR, 'A', 'c2', 'bob'));
    const r = w.apply(ev(DAY0 + DAY + 4 * HOUR, 'A', 'c3', 'bob')).windows;
    expect(r).toMatchObject({ attempts24h: 1, distinct24h: 1, newEver24h: 0, slots24h: 1 });
    expect(r).toMatchObject({ attempts7d: 3, distinct7d: 2, newEver7d: 1, days7d: 2 });
  });

  it('counts talk, ended, short and long calls of answered calls that talked', () => {
    const w = fresh();
    answered(w, DAY0, 'c1', 5);
    answered(w, DAY0 + HOUR, 'c2', LONG_CALL_S - 1);
    answered(w, DAY0 + 2 * HOUR, 'c3', LONG_CALL_S);
    const r = answered(w, DAY0 + 3 * HOUR, 'c4', 0).windows; // answered, hung up at once
    expect(r).toMatchObject({
      attempts24h: 4,
      answered24h: 4,
      ended24h: 3,
      talk24h: 5 + LONG_CALL_S - 1 + LONG_CALL_S,
      short24h: 1,
      long24h: 1,
      ended7d: 3,
      answered7d: 4,
      talk7d: 5 + 2 * LONG_CALL_S - 1,
      slots24h: 2,
    });
    // the hour reaches back into the 10-minute bucket of c3's start
    expect(r).toMatchObject({ attempts1h: 2, answered1h: 2, ended1h: 1, talk1h: LONG_CALL_S });
  });

  it('returns no window sums for the end of an unanswered call, and counts nothing for it', () => {
    const w = fresh();
    w.apply(ev(DAY0, 'A', 'c1'));
    const end = w.apply(ev(DAY0 + 20_000, 'E', 'c1'));
    expect(end.status).toBe(0);
    expect(end.windows).toMatchObject({ at: DAY0 + 20_000, firstSeen: DAY0, attempts24h: 0, attempts10m: 0 });
    expect(w.read(DAY0 + 20_000)).toMatchObject({ attempts24h: 1, ended24h: 0, attempts10m: 1 });
  });

  it('drops an event older than the watermark minus lateness, applies one within it at the watermark', () => {
    const w = fresh();
    const t = DAY0 + 10 * HOUR;
    w.apply(ev(t, 'A', 'c1'));
    const late = w.apply(ev(t - LATE - 1, 'A', 'c2'));
    expect(late.status).toBe(2);
    expect(late.windows).toMatchObject({ at: t, attempts24h: 0, firstSeen: 0 });
    expect(w.read(t).attempts24h).toBe(1);
    // within lateness, and across midnight: its own day and 2-hour bucket, read at the watermark
    const m = DAY0 + DAY + 30_000;
    w.apply(ev(m, 'A', 'c3'));
    const ok = w.apply(ev(m - 60_000, 'A', 'c4'));
    expect(ok.status).toBe(0);
    expect(ok.windows).toMatchObject({ at: m, attempts10m: 2, attempts24h: 3, attempts7d: 3, days7d: 2 });
    expect(w.read(DAY0 + DAY - 1)).toMatchObject({ attempts7d: 2, days7d: 1 });
  });

  it('applies each event type of a call once', () => {
    const w = fresh();
    w.apply(ev(DAY0, 'A', 'c1'));
    const again = w.apply(ev(DAY0, 'A', 'c1'));
    expect(again.status).toBe(1);
    expect(again.windows.attempts24h).toBe(1);
    expect(w.apply(ev(DAY0 + 1000, 'N', 'c1')).status).toBe(0);
  });

  it('keeps at most 16 callee regions and the last one', () => {
    const w = fresh();
    for (let i = 0; i < 20; i++) w.apply({ ...ev(DAY0 + i * 1000, 'A', `c${i}`), region: `r${i}` });
    expect(w.read(DAY0 + 20_000)).toMatchObject({ distinctRegions: 16, region: 'r19' });
  });
});
