import type Redis from 'ioredis';
import type { LuaScript, ScriptName } from '../lua/detector-scripts';

/**
 * Where Redis's time goes during a benchmark, per script and per command, from Redis's own slow
 * log with a threshold of 0: every EVALSHA (named by its script's SHA) with its duration, and every
 * command, those the scripts run included (so a script's row includes its commands' rows). The
 * durations are Redis's wall time in each, so read them on an otherwise idle machine; logging every
 * command costs Redis a little itself (about 0.5 µs per command here). The settings it changes
 * are put back by `finish`.
 */
export class RedisBreakdown {
  private saved: [string, string][] = [];

  private constructor(
    private readonly redis: Redis,
    private readonly names: Map<string, string>,
    private readonly maxEntries: number,
  ) {}

  static async start(
    redis: Redis,
    scripts: Map<ScriptName, LuaScript>,
    maxEntries: number,
  ): Promise<RedisBreakdown> {
    const names = new Map<string, string>();
    for (const s of scripts.values()) {
      names.set(s.sha, s.name);
      if (s.groups) names.set(s.groups.sha, s.name);
    }
    const b = new RedisBreakdown(redis, names, maxEntries);
    for (const k of ['slowlog-log-slower-than', 'slowlog-max-len']) {
      const [, v] = (await redis.config('GET', k)) as string[];
      b.saved.push([k, v]);
    }
    await redis.config('SET', 'slowlog-max-len', String(maxEntries));
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await redis.slowlog('RESET');
    return b;
  }

  /** The table: per script (by name) and per command, the costliest first. */
  async finish(events: number): Promise<string> {
    const log = (await this.redis.slowlog('GET', '-1')) as [number, number, number, string[]][];
    for (const [k, v] of this.saved) await this.redis.config('SET', k, v);
    await this.redis.slowlog('RESET');
    const by = new Map<string, { calls: number; us: number }>();
    for (const [, , us, args] of log) {
      const cmd = String(args[0]).toLowerCase();
      if (cmd === 'slowlog' || cmd === 'config' || cmd === 'info') continue;
      const name =
        cmd === 'evalsha' ? `script ${this.names.get(String(args[1])) ?? String(args[1]).slice(0, 8)}` : cmd;
      const e = by.get(name) ?? { calls: 0, us: 0 };
      e.calls++;
      e.us += us;
      by.set(name, e);
    }
    const per = Math.max(1, events);
    const rows = [...by]
      .sort((a, b) => b[1].us - a[1].us)
      .map(
        ([name, e]) =>
          `  ${name.padEnd(26)} ${(e.us / per).toFixed(2).padStart(7)} µs/event ` +
          `${(e.calls / per).toFixed(3).padStart(7)} calls/event ${(e.us / e.calls).toFixed(1).padStart(7)} µs/call`,
      );
    const logged = [...by.values()].reduce((n, e) => n + e.calls, 0);
    return [
      `Redis time per event by script and by command, a script's including its commands' (slow log of ${logged} commands${logged >= this.maxEntries - 10 ? ', full: some commands were not logged' : ''}):`,
      ...rows,
    ].join('\n');
  }
}
