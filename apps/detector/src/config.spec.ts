import { loadConfig } from '@eagle-eye/config';
import {
  callerWindows,
  callerWriteDelayMs,
  DetectorConfigSchema,
  detectionOptions,
  scriptRequestArgs,
} from './config';

describe('detector configuration', () => {
  const base = {
    REDIS_URL: 'redis://127.0.0.1:6390',
    DATABASE_URL: 'postgres://eagleeye_app:x@127.0.0.1:5440/eagleeye',
  };
  const load = (env: Record<string, string>) => loadConfig(DetectorConfigSchema, { ...base, ...env });

  it('caps a grouped script request by the windows mode unless DETECTOR_SCRIPT_REQUEST_ARGS says', () => {
    expect(scriptRequestArgs(load({}))).toBe(500);
    expect(scriptRequestArgs(load({ DETECTOR_CALLER_WINDOWS: 'script' }))).toBe(2000);
    expect(scriptRequestArgs(load({ DETECTOR_CALLER_WINDOWS: 'node' }))).toBe(500);
    expect(
      scriptRequestArgs(load({ DETECTOR_CALLER_WINDOWS: 'node', DETECTOR_SCRIPT_REQUEST_ARGS: '0' })),
    ).toBe(0);
    expect(scriptRequestArgs(load({ DETECTOR_SCRIPT_REQUEST_ARGS: '64000' }))).toBe(64000);
    expect(() => load({ DETECTOR_SCRIPT_REQUEST_ARGS: '-1' })).toThrow(/DETECTOR_SCRIPT_REQUEST_ARGS/);
  });

  it('keeps caller windows in the detector unless DETECTOR_CALLER_WINDOWS says, and knows whether it was said', () => {
    expect(callerWindows(load({}))).toBe('node');
    expect(load({}).DETECTOR_CALLER_WINDOWS).toBeUndefined();
    expect(callerWindows(load({ DETECTOR_CALLER_WINDOWS: 'script' }))).toBe('script');
    expect(callerWindows(load({ DETECTOR_CALLER_WINDOWS: 'node' }))).toBe('node');
    expect(() => load({ DETECTOR_CALLER_WINDOWS: 'lua' })).toThrow(/DETECTOR_CALLER_WINDOWS/);
  });

  it('leases hand-off partitions for 10 s unless told, 0 turning the leases off', () => {
    expect(load({}).DETECTOR_PARTITION_LEASE_MS).toBe(10000);
    expect(load({ DETECTOR_PARTITION_LEASE_MS: '0' }).DETECTOR_PARTITION_LEASE_MS).toBe(0);
    expect(() => load({ DETECTOR_PARTITION_LEASE_MS: 'soon' })).toThrow(/DETECTOR_PARTITION_LEASE_MS/);
  });

  it('defers windows writes 10 s, never without leases, at most half the claim idle time', () => {
    expect(callerWriteDelayMs(load({}))).toBe(10000);
    expect(detectionOptions(load({})).callerWriteDelayMs).toBe(10000);
    expect(callerWriteDelayMs(load({ DETECTOR_WINDOWS_WRITE_DELAY_MS: '0' }))).toBe(0);
    expect(callerWriteDelayMs(load({ DETECTOR_PARTITION_LEASE_MS: '0' }))).toBe(0);
    expect(callerWriteDelayMs(load({ DETECTOR_CLAIM_IDLE_MS: '3000' }))).toBe(1500);
    expect(() => load({ DETECTOR_WINDOWS_WRITE_DELAY_MS: '-5' })).toThrow(/DETECTOR_WINDOWS_WRITE_DELAY_MS/);
  });
});
