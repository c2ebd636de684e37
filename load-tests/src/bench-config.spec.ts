import { parseBenchArgs, parseEnvList } from './bench-config';

describe('npm run bench options for a latency-only run', () => {
  it('--latency-at runs one level at that rate; --alt-env alternates four by default', () => {
    const one = parseBenchArgs(['--latency-at', '2000', '--latency-s', '15'], {});
    expect(one).toMatchObject({ latencyAt: 2000, latencyS: 15, latencyRuns: 1 });
    expect(one.altEnv).toBeUndefined();
    const ab = parseBenchArgs(['--latency-at', '2000', '--alt-env', 'DETECTOR_ROUND_EVENTS=128,X_Y=a=b'], {});
    expect(ab).toMatchObject({ latencyRuns: 4, altEnv: { DETECTOR_ROUND_EVENTS: '128', X_Y: 'a=b' } });
    expect(
      parseBenchArgs(['--latency-at', '10', '--alt-env', 'A=1', '--latency-runs', '6'], {}).latencyRuns,
    ).toBe(6);
    // a whole run has no latency-only rate
    expect(parseBenchArgs([], {}).latencyAt).toBeUndefined();
  });

  it('refuses --alt-env or --latency-runs without --latency-at, and settings that are not NAME=value', () => {
    expect(() => parseBenchArgs(['--alt-env', 'A=1'], {})).toThrow(/--latency-at/);
    expect(() => parseBenchArgs(['--latency-runs', '2'], {})).toThrow(/--latency-at/);
    expect(() => parseEnvList('lower=1')).toThrow(/NAME=value/);
    expect(() => parseEnvList('A=1,,B=2')).toThrow(/NAME=value/);
  });

  it('--queue-redis: the alerts queue on a second private Redis, for the whole run or the B levels', () => {
    const on = parseBenchArgs(['--queue-redis', 'on', '--redis-port', '6483'], {});
    expect(on).toMatchObject({ queueRedis: 'on', queueRedisPort: 6484 });
    const alt = parseBenchArgs(
      ['--latency-at', '3000', '--queue-redis', 'alt', '--queue-redis-port', '6482'],
      {},
    );
    expect(alt).toMatchObject({ queueRedis: 'alt', queueRedisPort: 6482, latencyRuns: 4 });
    expect(parseBenchArgs([], {}).queueRedis).toBeUndefined();
    expect(() => parseBenchArgs(['--queue-redis', 'alt'], {})).toThrow(/--latency-at/);
    expect(() => parseBenchArgs(['--queue-redis', 'yes'], {})).toThrow(/on or alt/);
    expect(() => parseBenchArgs(['--queue-redis', 'on', '--queue-redis-port', '6415'], {})).toThrow(
      /not the port of the state Redis/,
    );
    // existing servers: the queue's Redis is named too
    const existing = { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgres://x@127.0.0.1/y' };
    expect(() => parseBenchArgs(['--queue-redis', 'on'], existing)).toThrow(/QUEUE_REDIS_URL/);
    expect(
      parseBenchArgs(['--queue-redis', 'on'], { ...existing, QUEUE_REDIS_URL: 'redis://127.0.0.1:2' })
        .queueRedisUrl,
    ).toBe('redis://127.0.0.1:2');
  });
});
