/**
 * Per-carrier token bucket in events, kept in this process: each ingest replica enforces the limit
 * for the streams it serves. The clock is passed in so tests are deterministic.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {}

  /** Takes `n` tokens, or returns how many ms to wait until `n` would be available. */
  take(key: string, n: number, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    if (this.ratePerS <= 0) return { ok: true };
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: this.burst, at: now }));
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.ratePerS) / 1000);
    b.at = now;
    if (b.tokens >= n) {
      b.tokens -= n;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((n - b.tokens) * 1000) / this.ratePerS) };
  }
}
