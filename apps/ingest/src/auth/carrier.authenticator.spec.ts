import { IngestConfigSchema } from '../config';
import { CarrierAuthenticator } from './carrier.authenticator';
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
