import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { REDIS, RedisKeys } from '@eagle-eye/redis';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';

/**
 * Server-side session state in Redis (shared by every console replica):
 * - one key per session (the token's `jti`), expiring after CONSOLE_IDLE_TIMEOUT_S without use;
 *   logout deletes it, so a token stops working before its `exp`;
 * - failed sign-in counters per client IP and per username (rate-limiter-flexible).
 */
@Injectable()
export class SessionStore {
  private readonly byIp: RateLimiterRedis;
  private readonly byUser: RateLimiterRedis;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {
    const common = {
      storeClient: redis,
      duration: config.CONSOLE_LOGIN_WINDOW_S,
      blockDuration: config.CONSOLE_LOGIN_WINDOW_S,
    };
    this.byIp = new RateLimiterRedis({
      ...common,
      keyPrefix: `${keys.prefix}:console:login-fail-ip`,
      points: config.CONSOLE_LOGIN_MAX_FAILS_PER_IP,
    });
    this.byUser = new RateLimiterRedis({
      ...common,
      keyPrefix: `${keys.prefix}:console:login-fail-user`,
      points: config.CONSOLE_LOGIN_MAX_FAILS_PER_USER,
    });
  }

  private key(jti: string): string {
    return `${this.keys.prefix}:console:session:${jti}`;
  }

  /** Starts a session; returns its id (the token's jti). */
  async start(userId: string): Promise<string> {
    const jti = randomBytes(16).toString('base64url');
    await this.redis.set(this.key(jti), userId, 'EX', this.config.CONSOLE_IDLE_TIMEOUT_S);
    return jti;
  }

  /** True if the session is live (and pushes its idle deadline back); false once ended or idle. */
  async touch(jti: string): Promise<boolean> {
    return (await this.redis.expire(this.key(jti), this.config.CONSOLE_IDLE_TIMEOUT_S)) === 1;
  }

  async end(jti: string): Promise<void> {
    await this.redis.del(this.key(jti));
  }

  /** Seconds until this IP or username may try again, or 0 if neither is blocked. */
  async loginBlockedFor(ip: string, username: string): Promise<number> {
    const [a, b] = await Promise.all([this.byIp.get(ip), this.byUser.get(userKey(username))]);
    let ms = 0;
    if (a && a.consumedPoints > this.byIp.points) ms = Math.max(ms, a.msBeforeNext);
    if (b && b.consumedPoints > this.byUser.points) ms = Math.max(ms, b.msBeforeNext);
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  /** Counts a failed sign-in; returns seconds until the next attempt is allowed if now blocked. */
  async loginFailed(ip: string, username: string): Promise<number> {
    const results = await Promise.all([
      this.byIp.consume(ip).then(
        () => null,
        (r: unknown) => rejected(r),
      ),
      this.byUser.consume(userKey(username)).then(
        () => null,
        (r: unknown) => rejected(r),
      ),
    ]);
    const ms = Math.max(0, ...results.filter((r): r is number => r !== null));
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  /** A successful sign-in clears the username's failures (the IP's stay counted). */
  async loginSucceeded(username: string): Promise<void> {
    await this.byUser.delete(userKey(username));
  }
}

function userKey(username: string): string {
  return username.normalize('NFKC').toLowerCase().slice(0, 64);
}

function rejected(r: unknown): number | null {
  if (r instanceof RateLimiterRes) return r.msBeforeNext;
  throw r instanceof Error ? r : new Error(String(r));
}
