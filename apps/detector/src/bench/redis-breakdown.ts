import type Redis from 'ioredis';
import type { LuaScript } from '../lua/detector-scripts';

/** One script or command of a breakdown: Redis's time and calls per event. */
export interface BreakdownRow {
  /** `script <name>` (a script it was told the SHA of), `script <sha> on <first key>`, or a command */
  name: string;
  usPerEvent: number;
  callsPerEvent: number;
  usPerCall: number;
}

export interface Breakdown {
  rows: BreakdownRow[];
  /** commands logged; `full` when the log was full (the oldest were dropped) */
  logged: number;
  full: boolean;
}

/**
 * Where Redis's time goes during a benchmark, per script and per command, from Redis's own slow
 * log with a threshold of 0: every EVALSHA (named by its script's SHA, or by its SHA and first key
 * for a script it was not told of, such as BullMQ's) with its duration, and every command, those
 * the scripts run included (so a script's row includes its commands' rows). The durations are
 * Redis's wall time in each, so read them on an otherwise idle machine; logging every command
 * costs Redis a little itself (about 0.5 µs per command here). The settings it changes are put
 * back by `finish`.
 */
export class RedisBreakdown {
  private saved: [string, string][] = [];

  private constructor(
    private readonly redis: Redis,
    private readonly names: Map<string, string>,
    private readonly maxEntries: number,
  ) {}

  /** `names`: script SHA -> name. */
  static async start(redis: Redis, names: Map<string, string>, maxEntries: number): Promise<RedisBreakdown> {
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

  /** The rows per event, the costliest first. */
  async finish(events: number): Promise<Breakdown> {
    const log = (await this.redis.slowlog('GET', '-1')) as [number, number, number, string[]][];
    for (const [k, v] of this.saved) await this.redis.config('SET', k, v);
    await this.redis.slowlog('RESET');
    const by = new Map<string, { calls: number; us: number }>();
    for (const [, , us, args] of log) {
      const cmd = String(args[0]).toLowerCase();
      if (cmd === 'slowlog' || cmd === 'config' || cmd === 'info') continue;
      const e = by.get(this.nameOf(cmd, args)) ?? { calls: 0, us: 0 };
      e.calls++;
      e.us += us;
      by.set(this.nameOf(cmd, args), e);
    }
    const per = Math.max(1, events);
    const rows = [...by]
      .sort((a, b) => b[1].us - a[1].us)
      .map(([name, e]) => ({
        name,
        usPerEvent: Math.round((e.us / per) * 100) / 100,
        callsPerEvent: Math.round((e.calls / per) * 1000) / 1000,
        usPerCall: Math.round((e.us / e.calls) * 10) / 10,
      }));
    return { rows, logged: log.length, full: log.length >= this.maxEntries };
  }

  private nameOf(cmd: string, args: string[]): string {
    if (cmd !== 'evalsha') return cmd;
    const sha = String(args[1]);
    const known = this.names.get(sha);
    if (known) return `script ${known}`;
    // BullMQ's and other scripts: their SHA and first key, ids and numbers masked
    const key = Number(args[2]) > 0 ? String(args[3] ?? '').replace(/[0-9a-f]{6,}|\d+/g, '*') : '';
    return `script ${sha.slice(0, 8)}${key ? ` on ${key}` : ''}`;
  }
}

/** The rows as a table, at most `top` of them. */
export function formatBreakdown(b: Breakdown, top = 25): string {
  return [
    `Redis time per event by script and by command, a script's including its commands' (slow log of ${b.logged} commands${b.full ? ', full: the oldest were dropped' : ''}):`,
    ...b.rows
      .slice(0, top)
      .map(
        (r) =>
          `  ${r.name.padEnd(44)} ${r.usPerEvent.toFixed(2).padStart(7)} µs/event ` +
          `${r.callsPerEvent.toFixed(3).padStart(7)} calls/event ${r.usPerCall.toFixed(1).padStart(7)} µs/call`,
      ),
  ].join('\n');
}

/** Scripts' SHAs (and their several-groups variants') -> names. */
export function scriptNames(
  scripts: Iterable<Pick<LuaScript, 'name' | 'sha' | 'groups'>>,
): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of scripts) {
    names.set(s.sha, s.name);
    if (s.groups) names.set(s.groups.sha, s.name);
  }
  return names;
}
