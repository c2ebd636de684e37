import { RoundSize } from './round-size';

describe('RoundSize', () => {
  it('asks one entry per partition before any entry was seen', () => {
    expect(new RoundSize(8000, 100).count(16)).toBe(1);
  });

  it('sizes reads to about the round events once entries were seen', () => {
    const s = new RoundSize(8000, 100);
    s.observe(16, 16 * 31); // 31 events per entry
    expect(s.count(16)).toBe(16); // 16 partitions x 16 entries x 31 = 7,936 events
    expect(s.count(4)).toBe(64);
    expect(s.count(1)).toBe(100); // never more than DETECTOR_READ_COUNT
  });

  it('follows larger entries at once and smaller ones slowly', () => {
    const s = new RoundSize(8000, 100);
    s.observe(10, 100);
    s.observe(10, 5000); // 500 events per entry
    expect(s.eventsPerEntry).toBe(500);
    expect(s.count(16)).toBe(1);
    s.observe(10, 100);
    expect(s.eventsPerEntry).toBeCloseTo(0.8 * 500 + 0.2 * 10);
    for (let i = 0; i < 40; i++) s.observe(10, 100);
    expect(s.eventsPerEntry).toBeLessThan(11);
    expect(s.count(16)).toBe(49); // 8,000 / (16 x 10.07)
  });

  it('ignores empty reads and counts an entry of no events as one', () => {
    const s = new RoundSize(1000, 100);
    s.observe(0, 0);
    expect(s.count(10)).toBe(1);
    s.observe(5, 0);
    expect(s.eventsPerEntry).toBe(1);
    expect(s.count(10)).toBe(100);
  });

  it('refuses bounds below one', () => {
    expect(() => new RoundSize(0, 100)).toThrow(/>= 1/);
    expect(() => new RoundSize(100, 0)).toThrow(/>= 1/);
  });
});
