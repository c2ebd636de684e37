import { TokenBucketLimiter } from './rate-limit';

describe('TokenBucketLimiter', () => {
  it('allows the burst, then refuses with the time until enough tokens refill', () => {
    const l = new TokenBucketLimiter(1000, 2000);
    expect(l.take('a', 1500, 0)).toEqual({ ok: true });
    expect(l.take('a', 1000, 0)).toEqual({ ok: false, retryAfterMs: 500 });
    // another carrier has its own bucket
    expect(l.take('b', 2000, 0)).toEqual({ ok: true });
    expect(l.take('a', 1000, 500)).toEqual({ ok: true });
    expect(l.take('a', 1, 500)).toEqual({ ok: false, retryAfterMs: 1 });
  });

  it('never fills beyond the burst and is off at rate 0', () => {
    const l = new TokenBucketLimiter(1000, 100);
    expect(l.take('a', 100, 10_000_000)).toEqual({ ok: true });
    expect(l.take('a', 1, 10_000_000)).toEqual({ ok: false, retryAfterMs: 1 });
    expect(new TokenBucketLimiter(0, 1).take('a', 1e9, 0)).toEqual({ ok: true });
  });
});
