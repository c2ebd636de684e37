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
});
