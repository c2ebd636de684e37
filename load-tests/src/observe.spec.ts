import { parseProm, unappliedOf } from './observe';

describe('unappliedOf', () => {
  const ingest = (accepted: number, duplicate: number) =>
    parseProm(
      [
        '# TYPE eagleeye_ingest_events_total counter',
        `eagleeye_ingest_events_total{carrier="a",result="accepted",reason=""} ${accepted}`,
        `eagleeye_ingest_events_total{carrier="a",result="duplicate",reason=""} ${duplicate}`,
        `eagleeye_ingest_events_total{carrier="a",result="rejected",reason="BAD_TOKEN"} 7`,
      ].join('\n'),
    );
  const detector = (applied: number, late: number) =>
    parseProm(
      [
        `eagleeye_detector_events_total{result="applied"} ${applied}`,
        `eagleeye_detector_events_total{result="late"} ${late}`,
      ].join('\n'),
    );

  it("counts ingest's accepted events less what every detector replica took through both stages", () => {
    // duplicates and rejections never reach the hand-off; late events were processed (dropped)
    expect(unappliedOf([ingest(10_000, 500)], [detector(6_000, 100), detector(1_900, 0)])).toBe(2_000);
  });

  it('never goes below zero (a redelivered round counted twice)', () => {
    expect(unappliedOf([ingest(100, 0)], [detector(120, 0)])).toBe(0);
  });
});
