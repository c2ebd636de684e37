import type Redis from 'ioredis';
import type { LuaScript, ScriptName } from '../lua/detector-scripts';

/**
 * Where Redis's time goes during a benchmark, per script and per command, from Redis's own
 * records: the slow log with a threshold of 0 (every command and EVALSHA with its duration; a
 * script's inner commands are not logged, they are inside its EVALSHA) named by SHA, and INFO
 * commandstats (which does count the commands scripts run). Durations are Redis's wall time in each
 * command, so read them on an otherwise idle machine. Logging every command costs Redis a little
 * itself. The settings it changes are put back by `finish`.
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
    await redis.config('RESETSTAT');
    return b;
  }

  /** The table: per script (by name) and per command outside scripts, then the commands inside. */
  async finish(events: number): Promise<string> {
    const stats = (await this.redis.info('commandstats')) as string;
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
          `${(e.calls / per).toFixed(3).padStart(7)} calls/event ${(e.us / e.calls).toFixed(0).padStart(6)} µs/call`,
      );
    const inner: string[] = [];
    for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      const [cmd, calls, usec] = [m[1], Number(m[2]), Number(m[3])];
      const outside = by.get(cmd)?.calls ?? 0;
      if (cmd === 'evalsha' || calls <= outside) continue;
      // commandstats counts a command wherever it ran; the slow log only outside scripts
      const us = usec - (by.get(cmd)?.us ?? 0);
      inner.push(`${cmd.toUpperCase()} ${(us / per).toFixed(2)} (${((calls - outside) / per).toFixed(2)})`);
    }
    const logged = [...by.values()].reduce((n, e) => n + e.calls, 0);
    return [
      `Redis time per event by script and command (slow log of ${logged} commands${logged >= this.maxEntries - 10 ? ', full: some commands were not logged' : ''}):`,
      ...rows,
      `  inside the scripts, µs (calls) per event: ${inner.join(', ')}`,
    ].join('\n');
  }
}
