import { ConfigError, loadConfig } from '@eagle-eye/config';
import { AlertWorkerConfigSchema, MAX_WRITE_BATCH } from './config';

describe('alert worker configuration', () => {
  const load = (batch: string) =>
    loadConfig(AlertWorkerConfigSchema, { NODE_ENV: 'test', ALERT_WORKER_WRITE_BATCH: batch });

  it('takes up to 64 writes per transaction (PostgreSQL caches 64 subtransactions per backend)', () => {
    expect(MAX_WRITE_BATCH).toBe(64);
    expect(load('64').ALERT_WORKER_WRITE_BATCH).toBe(64);
    expect(load('1').ALERT_WORKER_WRITE_BATCH).toBe(1);
  });

  it('refuses more than 64 writes per transaction, naming the setting', () => {
    expect(() => load('65')).toThrow(ConfigError);
    expect(() => load('256')).toThrow(/ALERT_WORKER_WRITE_BATCH/);
  });
});
