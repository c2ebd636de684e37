/**
 * Issue 13's choice, measured before the detector is rewritten around it: the caller stage of a
 * round as the detector runs it today (design A: one `caller-batch` script call per key group,
 * the windows kept and summed in Lua) against design B (each number's windows kept in the
 * detector's memory by the owner of its key group, libs/scoring caller-state.ts, and written to
 * Redis as one binary string per number and round through a fenced script per key group).
 *
 *   npm run bench:design-b                       (builds first; REDIS_URL, default 127.0.0.1:6379)
 *   npm run bench:design-b -- --subscribers 8000 --rounds-json out.json
 *
 * Same traffic for both (the detector benchmark's synthetic subscribers and fan-out numbers, fixed
 * tokens, a warm-up hour so every number has history, then a measured hour), one 2,000-event
 * round after another, each round a packed hand-off entry unpacked inside the timed part as the
 * consumer does, every applied event scored with the default rules. Per event it prints the
 * detector's CPU (`process.cpuUsage`) and Redis's (`INFO cpu`, the server's own counters), and
 * the suspect-number decisions of each design (they must agree).
 *
 * Design B in two cases: `cold`, every number's state read from Redis each round (a new owner, or
 * an owner with no memory to spare), and `owned`, the owner keeps its numbers' states between
 * rounds and reads only numbers it has not seen. Both write every changed state each round, with
 * the lease token checked in the same script (fencing: a replica that lost its lease writes
 * nothing). Not measured here, because neither design changes it: the callee stage, claims and
 * alert jobs.
 */
import Redis from 'ioredis';
import { defaultRule, ResolvedRules, RULE_IDS } from '@eagle-eye/rules';
import { Args } from './src/args';
import { designA, designB, HOUR, Measured, rounds, hourOfTraffic, ROUND } from './src/design-b';

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['help']);
  if (args.flag('help')) {
    console.log(
      'usage: npm run bench:design-b -- [--subscribers 4000] [--repeat 2] [--json FILE]\n' +
        "The detector's caller stage, design A (Lua per key group) against design B (windows in Node),\n" +
        'and the detector with DETECTOR_CALLER_WINDOWS=node (--designs A,B cold,B owned,node).',
    );
    return;
  }
  const subscribers = args.num('subscribers', 4000, 100, 500_000);
  const repeat = args.num('repeat', 2, 1, 10);
  const jsonOut = args.str('json');
  const only = new Set((args.str('designs') ?? 'A,B cold,B owned,node').split(',').map((d) => d.trim()));
  args.assertAllUsed();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  try {
    const rules = Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;
    const start = Date.UTC(2026, 10, 24, 8);
    const warm = rounds(hourOfTraffic(subscribers, start));
    const measured = rounds(hourOfTraffic(subscribers, start + HOUR));
    // node: the detector's own caller stage with DETECTOR_CALLER_WINDOWS=node (what design B became)
    const runs: Record<string, Measured[]> = { A: [], 'B cold': [], 'B owned': [], node: [] };
    // alternating, so a change in the machine's load falls on every design alike
    for (let r = 0; r < repeat; r++) {
      process.stderr.write(`[design-b] run ${r + 1}/${repeat}:`);
      for (const d of Object.keys(runs)) {
        if (!only.has(d)) continue;
        process.stderr.write(` ${d} ...`);
        runs[d].push(
          d === 'A' || d === 'node'
            ? await designA(redis, warm, measured, rules, d === 'node' ? 'node' : 'script')
            : await designB(redis, warm, measured, rules, start, d === 'B owned'),
        );
      }
      process.stderr.write('\n');
    }
    const ran = Object.entries(runs).filter(([, ms]) => ms.length > 0);
    if (!ran.length) throw new Error(`--designs names none of: ${Object.keys(runs).join(', ')}`);
    const load = (await import('node:os')).loadavg()[0].toFixed(1);
    const lines = [
      `caller stage per event, ${ran[0][1][0].events} events of ${subscribers} subscribers' measured hour, ` +
        `rounds of ${ROUND}, load average ${load} (min-max of ${repeat} alternating runs)`,
      'design                 detector CPU      Redis CPU        suspect decisions  state bytes',
    ];
    const range = (xs: number[]) =>
      `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} µs`.padEnd(17);
    for (const [name, ms] of ran) {
      lines.push(
        `${name.padEnd(23)}${range(ms.map((m) => m.nodeUs))}${range(ms.map((m) => m.redisUs))}` +
          `${String(ms[0].suspects).padEnd(19)}${ms[0].stateBytes ?? '-'}`,
      );
    }
    console.log(lines.join('\n'));
    // every event's caller score, design by design, against the first run (design A's)
    const [base, baseRuns] = ran[0];
    const want = baseRuns[0].scores;
    const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
    for (const [name, ms] of ran) {
      for (const m of ms) {
        const differ =
          m.scores.length === want.length ? m.scores.filter((x, i) => !same(x, want[i])).length : -1;
        if (differ !== 0) {
          console.log(
            `WARNING: ${name} scored ${differ < 0 ? `${m.scores.length} events against ${want.length}` : `${differ} events differently`} from ${base}`,
          );
        }
      }
    }
    const scored = want.filter((x) => !Number.isNaN(x)).length;
    console.log(`every run scored the same ${scored} events with the same caller scores unless warned above`);
    if (jsonOut) {
      const { writeFileSync } = await import('node:fs');
      const slim = Object.fromEntries(
        Object.entries(runs).map(([k, ms]) => [k, ms.map((m) => ({ ...m, scores: undefined }))]),
      );
      writeFileSync(jsonOut, JSON.stringify({ subscribers, repeat, runs: slim }, null, 2));
    }
  } finally {
    redis.disconnect();
  }
}

main().catch((e: Error) => {
  console.error(`design-b: ${e.message}`);
  process.exit(1);
});
