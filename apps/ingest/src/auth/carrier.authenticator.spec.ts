import { createHash } from 'node:crypto';
import { IngestConfigSchema } from '../config';
import { AUTH_CACHE_ENTRIES, CarrierAuthenticator } from './carrier.authenticator';
import { CarrierCredentialsRepository } from './carrier-credentials.repository';

describe('CarrierAuthenticator production guard', () => {
  const repo = {} as CarrierCredentialsRepository;
  const config = (env: Record<string, string>) =>
    IngestConfigSchema.parse({ DATABASE_URL: 'postgres://app:own-secret@db/x', ...env });
  const saved = process.env.EE_ALLOW_DEMO_IN_PRODUCTION;
  afterEach(() => {
    if (saved === undefined) delete process.env.EE_ALLOW_DEMO_IN_PRODUCTION;
    else process.env.EE_ALLOW_DEMO_IN_PRODUCTION = saved;
  });

  it('refuses API keys without TLS in production', () => {
    delete process.env.EE_ALLOW_DEMO_IN_PRODUCTION;
    expect(() => new CarrierAuthenticator(repo, config({ NODE_ENV: 'production' }))).toThrow(
      /NODE_ENV=production: INGEST_AUTH_MODE=api_key without TLS/,
    );
  });

  it('accepts API keys over TLS in production, and without TLS in development and tests', () => {
    delete process.env.EE_ALLOW_DEMO_IN_PRODUCTION;
    const tls = { INGEST_TLS_CERT_FILE: '/etc/tls/cert.pem', INGEST_TLS_KEY_FILE: '/etc/tls/key.pem' };
    expect(() => new CarrierAuthenticator(repo, config({ NODE_ENV: 'production', ...tls }))).not.toThrow();
    expect(() => new CarrierAuthenticator(repo, config({ NODE_ENV: 'test' }))).not.toThrow();
    expect(() => new CarrierAuthenticator(repo, config({}))).not.toThrow();
  });
});

describe('CarrierAuthenticator key cache', () => {
  const config = IngestConfigSchema.parse({
    DATABASE_URL: 'postgres://app:own-secret@db/x',
    NODE_ENV: 'test',
  });
  const secretSha256 = createHash('sha256').update('good-secret').digest();

  it('keeps a carrier key in use cached through a flood of unknown key ids (LRU, not clear-all)', async () => {
    let lookups = 0;
    const repo = {
      findApiKey: (keyId: string) => {
        if (keyId === 'good') lookups++;
        return Promise.resolve(
          keyId === 'good' ? { keyId, carrierId: 'carrier-a', secretSha256, revoked: false } : undefined,
        );
      },
    } as unknown as CarrierCredentialsRepository;
    const auth = new CarrierAuthenticator(repo, config);
    await expect(auth.fromAuthorization('Bearer eek_good_good-secret')).resolves.toBe('carrier-a');
    for (let i = 0; i < 3 * AUTH_CACHE_ENTRIES; i++) {
      await expect(auth.fromAuthorization(`Bearer eek_flood${i}_x`)).rejects.toThrow('invalid API key');
      if (i % 1000 === 0) await auth.fromAuthorization('Bearer eek_good_good-secret');
    }
    expect(lookups).toBe(1);
  });
});
