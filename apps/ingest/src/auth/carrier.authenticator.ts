import { createHash, timingSafeEqual } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { enforceProduction } from '@eagle-eye/config';
import { CARRIER_ID, CARRIER_ID_SOURCE } from '@eagle-eye/contracts';
import { IngestConfig, INGEST_CONFIG } from '../config';
import { ApiKeyRecord, CarrierCredentialsRepository } from './carrier-credentials.repository';

export class AuthenticationError extends Error {
  constructor(
    /** metric label */
    readonly reason:
      | 'missing'
      | 'malformed'
      | 'unknown_key'
      | 'bad_secret'
      | 'revoked'
      | 'no_certificate'
      | 'unknown_carrier',
    message: string,
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

const BEARER = /^Bearer eek_([A-Za-z0-9]{1,64})_(\S{1,256})$/;
/** SAN URI naming the carrier in a client certificate; the subject CN is the fallback */
const SAN_URI = new RegExp(`(?:^|,\\s*)URI:urn:eagleeye:carrier:(${CARRIER_ID_SOURCE})(?=,|$)`);

/** lookups cached at most (least recently used evicted first) */
export const AUTH_CACHE_ENTRIES = 10_000;

/** a cached lookup; "no such key" is cached too, so a flood of bad keys does not reach Postgres */
interface Cached<T> {
  value: T;
}

/**
 * Turns credentials into a carrier id. API keys: `authorization: Bearer eek_<keyId>_<secret>`, the
 * key looked up by id, SHA-256(secret) compared in constant time, revocation respected. Lookups
 * (including "no such key") are cached for INGEST_AUTH_CACHE_TTL_MS, so revocation takes effect
 * within that time (open streams re-check at that interval) and a flood of bad keys does not reach
 * Postgres; the cache is an LRU, so such a flood evicts its own entries, not the carriers' keys.
 */
@Injectable()
export class CarrierAuthenticator {
  private readonly keyCache: LRUCache<string, Cached<ApiKeyRecord | undefined>>;
  private readonly carrierCache: LRUCache<string, Cached<boolean>>;

  constructor(
    private readonly repo: CarrierCredentialsRepository,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {
    const ttl = Math.max(1, config.INGEST_AUTH_CACHE_TTL_MS);
    this.keyCache = new LRUCache({ max: AUTH_CACHE_ENTRIES, ttl });
    this.carrierCache = new LRUCache({ max: AUTH_CACHE_ENTRIES, ttl });
    // API keys are bearer secrets: in production they never cross the network in clear text
    if (config.INGEST_AUTH_MODE === 'api_key' && !(config.INGEST_TLS_CERT_FILE && config.INGEST_TLS_KEY_FILE))
      enforceProduction(
        [
          'INGEST_AUTH_MODE=api_key without TLS (set INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE, or use mtls)',
        ],
        { ...process.env, NODE_ENV: config.NODE_ENV },
      );
  }

  async fromAuthorization(header: string | undefined): Promise<string> {
    if (!header)
      throw new AuthenticationError(
        'missing',
        'missing authorization metadata (Bearer eek_<keyId>_<secret>)',
      );
    const m = BEARER.exec(header);
    if (!m) throw new AuthenticationError('malformed', 'authorization must be "Bearer eek_<keyId>_<secret>"');
    const [, keyId, secret] = m;
    const record = await this.cached(this.keyCache, keyId, () => this.repo.findApiKey(keyId));
    // Hash even for unknown keys so timing does not tell which key ids exist.
    const given = createHash('sha256').update(secret, 'utf8').digest();
    if (!record) throw new AuthenticationError('unknown_key', 'invalid API key');
    if (record.secretSha256.length !== given.length || !timingSafeEqual(record.secretSha256, given)) {
      throw new AuthenticationError('bad_secret', 'invalid API key');
    }
    if (record.revoked) throw new AuthenticationError('revoked', 'API key revoked');
    return record.carrierId;
  }

  /** mTLS: the carrier id from the verified client certificate (SAN URI urn:eagleeye:carrier:<id>, else CN). */
  async fromCertificate(cert: PeerCertificate | undefined): Promise<string> {
    if (!cert || !cert.subject)
      throw new AuthenticationError('no_certificate', 'a client certificate is required');
    const san = cert.subjectaltname ? SAN_URI.exec(cert.subjectaltname) : null;
    const cn = typeof cert.subject.CN === 'string' ? cert.subject.CN : '';
    const carrierId = san ? san[1] : cn;
    if (!CARRIER_ID.test(carrierId)) {
      throw new AuthenticationError(
        'malformed',
        'the client certificate names no carrier (SAN URI urn:eagleeye:carrier:<id> or CN)',
      );
    }
    const exists = await this.cached(this.carrierCache, carrierId, () => this.repo.carrierExists(carrierId));
    if (!exists)
      throw new AuthenticationError('unknown_carrier', 'the client certificate names an unknown carrier');
    return carrierId;
  }

  private async cached<T>(
    cache: LRUCache<string, Cached<T>>,
    key: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = this.config.INGEST_AUTH_CACHE_TTL_MS > 0 ? cache.get(key) : undefined;
    if (hit) return hit.value;
    const value = await load();
    if (this.config.INGEST_AUTH_CACHE_TTL_MS > 0) cache.set(key, { value });
    return value;
  }
}
