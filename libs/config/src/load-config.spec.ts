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

describe('loadConfig in production', () => {
  const schema = baseSchema.extend({ CONSOLE_JWT_SECRET: env.secret(32) });
  const good = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://app:s3cret-Of-Our-Own@db:5432/eagleeye',
    REDIS_URL: 'redis://redis:6379',
    CONSOLE_JWT_SECRET: 'x'.repeat(40),
  };

  it('starts with secrets of its own', () => {
    expect(loadConfig(schema, good).NODE_ENV).toBe('production');
  });

  it('refuses a known demo value in any variable, naming the variable only', () => {
    for (const [name, value] of [
      ['CONSOLE_JWT_SECRET', 'e2e-console-secret-e2e-console-secret-000'],
      ['DATABASE_URL', 'postgres://eagleeye:eagleeye-dev@127.0.0.1:5440/eagleeye'],
    ]) {
      let msg = '';
      try {
        loadConfig(schema, { ...good, [name]: value });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        msg = (e as Error).message;
      }
      expect(msg).toContain(`${name} holds a known demo value`);
      expect(msg).not.toContain(value);
    }
    // the development default database URL (eagleeye-dev) counts too
    const { DATABASE_URL: _, ...noDb } = good;
    expect(() => loadConfig(schema, noDb)).toThrow(/DATABASE_URL holds a known demo value/);
  });

  it('leaves development and tests alone, and only warns when demo data is allowed explicitly', () => {
    const demo = { ...good, CONSOLE_JWT_SECRET: 'e2e-console-secret-e2e-console-secret-000' };
    expect(() => loadConfig(schema, { ...demo, NODE_ENV: 'test' })).not.toThrow();
    expect(() => loadConfig(schema, { ...demo, NODE_ENV: undefined })).not.toThrow();
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => loadConfig(schema, { ...demo, EE_ALLOW_DEMO_IN_PRODUCTION: 'true' })).not.toThrow();
      expect(String(write.mock.calls[0][0])).toMatch(/WARNING: EE_ALLOW_DEMO_IN_PRODUCTION=true/);
    } finally {
      write.mockRestore();
    }
  });

  it('never prints a secret or the password in a URL', () => {
    let msg = '';
    try {
      loadConfig(schema, {
        CONSOLE_JWT_SECRET: 'short-but-secret',
        DATABASE_URL: 'mysql://app:hunter2-password@db/x',
      });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('CONSOLE_JWT_SECRET is (16 characters, not shown)');
    expect(msg).toContain('DATABASE_URL is "mysql://app:***@db/x"');
    expect(msg).not.toMatch(/short-but-secret|hunter2/);
  });
});
