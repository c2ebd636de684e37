import { baseSchema, ConfigError, env, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const cfg = loadConfig(baseSchema, {});
    expect(cfg.REDIS_URL).toBe('redis://127.0.0.1:6390');
    expect(cfg.LOG_LEVEL).toBe('info');
  });

  it('names the offending variable and its value', () => {
    expect(() => loadConfig(baseSchema, { REDIS_URL: 'http://x' })).toThrow(ConfigError);
    try {
      loadConfig(baseSchema.extend({ PORT: env.port(1) }), { REDIS_URL: 'http://x', PORT: 'abc' });
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('REDIS_URL is "http://x"');
      expect(msg).toContain('PORT is "abc"');
    }
  });

  it('reports a missing secret as not set', () => {
    const schema = baseSchema.extend({ JWT_SECRET: env.secret(16) });
    expect(() => loadConfig(schema, {})).toThrow(/JWT_SECRET is not set/);
  });

  it('parses booleans', () => {
    const schema = baseSchema.extend({ FLAG: env.bool(false) });
    expect(loadConfig(schema, { FLAG: 'yes' }).FLAG).toBe(true);
    expect(loadConfig(schema, {}).FLAG).toBe(false);
  });
});
