import { baseSchema, env, z } from '@eagle-eye/config';
import { HANDOFF_DEFAULT_PARTITIONS } from '@eagle-eye/contracts';

/**
 * Ingest configuration (every default is listed in .env.example). Sizes are chosen so that one
 * stream holds at most INGEST_STREAM_MAX_IN_FLIGHT batches in memory: beyond that gRPC flow control
 * pushes back on the carrier.
 */
export const IngestConfigSchema = baseSchema
  .extend({
    INGEST_HTTP_PORT: env.port(9101),
    INGEST_HTTP_HOST: env.string('127.0.0.1'),
    REDIS_KEY_PREFIX: env.string('ee'),
    INGEST_GRPC_PORT: env.port(50051),
    INGEST_GRPC_HOST: env.string('127.0.0.1'),
    /** number of hand-off streams; the detector must use the same number */
    HANDOFF_PARTITIONS: env.int(HANDOFF_DEFAULT_PARTITIONS, 1, 1024),
    /** `api_key` (authorization: Bearer eek_<keyId>_<secret>) or `mtls` (client certificate) */
    INGEST_AUTH_MODE: z.enum(['api_key', 'mtls']).default('api_key'),
    /** PEM files; cert+key turn TLS on, the CA is required for mtls (it signs carrier certificates) */
    INGEST_TLS_CERT_FILE: z.string().optional(),
    INGEST_TLS_KEY_FILE: z.string().optional(),
    INGEST_TLS_CA_FILE: z.string().optional(),
    /** how long an API-key lookup (found, revoked or unknown) is cached, ms */
    INGEST_AUTH_CACHE_TTL_MS: env.int(30000, 0, 3600000),
    /** events per batch above which the batch is refused with INVALID_ARGUMENT */
    INGEST_MAX_BATCH_EVENTS: env.int(5000, 1, 100000),
    /** gRPC max receive message length, bytes; larger messages get RESOURCE_EXHAUSTED */
    INGEST_MAX_MESSAGE_BYTES: env.int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    /** how far ahead of the server clock an event time may be, ms */
    INGEST_MAX_FUTURE_SKEW_MS: env.int(5 * 60 * 1000, 0),
    /** how old an event may be, ms (a carrier replaying after an outage) */
    INGEST_MAX_EVENT_AGE_MS: env.int(24 * 3600 * 1000, 1000),
    /**
     * how long a handed-over event id is remembered, seconds (after the last new event of its
     * bucket): a resend within it is acknowledged as a duplicate. A later resend is handed over
     * again and the detector's per-call replay guard and lateness bound drop it, so it still has
     * no effect. Redis memory is about 50 bytes x events/s x (TTL + bucket).
     */
    INGEST_DEDUPE_TTL_S: env.int(900, 60),
    /** event-time bucket of the dedupe sets, seconds */
    INGEST_DEDUPE_BUCKET_S: env.int(600, 1, 86400),
    /** events per hand-off stream entry (one Lua call each); a partition chunk is split above it */
    INGEST_HANDOFF_CHUNK_EVENTS: env.int(500, 1, 5000),
    /** batches one stream may have between receipt and ack (pipelining depth) */
    INGEST_STREAM_MAX_IN_FLIGHT: env.int(8, 1, 256),
    /** entries in one partition stream above which carriers are slowed down (detector lagging) */
    INGEST_MAX_BACKLOG_ENTRIES: env.int(10000, 1),
    /** how often the partition backlog is measured, ms */
    INGEST_BACKLOG_POLL_MS: env.int(250, 10, 60000),
    /** per-carrier sustained rate, events/s (0 = unlimited) */
    INGEST_RATE_LIMIT_EVENTS_PER_S: env.int(250000, 0),
    /** per-carrier burst, events; must hold at least one full batch */
    INGEST_RATE_LIMIT_BURST_EVENTS: env.int(500000, 1),
    /** StreamCallEvents calls one carrier may hold open at once; more get RESOURCE_EXHAUSTED */
    INGEST_MAX_STREAMS_PER_CARRIER: env.int(32, 1, 10000),
    /** SubmitCallEvents calls one carrier may have in progress at once; more get RESOURCE_EXHAUSTED */
    INGEST_MAX_UNARY_PER_CARRIER: env.int(64, 1, 10000),
    /**
     * connections one carrier may have calls open on at once (a stolen key cannot spread its calls
     * over every connection the server takes); a call on one more gets RESOURCE_EXHAUSTED
     */
    INGEST_MAX_CONNECTIONS_PER_CARRIER: env.int(16, 1, 10000),
    /**
     * a connection older than this is asked to reconnect (GOAWAY), so its credentials are checked
     * afresh (a revoked client certificate); seconds
     */
    INGEST_MAX_CONNECTION_AGE_S: env.int(3600, 10, 7 * 86400),
    /** how long calls on such a connection may still run before it is closed, seconds */
    INGEST_MAX_CONNECTION_AGE_GRACE_S: env.int(60, 1, 3600),
    /** how often the gRPC health status is refreshed from Redis/Postgres reachability, ms */
    INGEST_HEALTH_POLL_MS: env.int(2000, 100, 60000),
  })
  .refine((c) => c.INGEST_RATE_LIMIT_BURST_EVENTS >= c.INGEST_MAX_BATCH_EVENTS, {
    message: 'INGEST_RATE_LIMIT_BURST_EVENTS must be at least INGEST_MAX_BATCH_EVENTS',
    path: ['INGEST_RATE_LIMIT_BURST_EVENTS'],
  })
  .refine(
    (c) =>
      c.INGEST_AUTH_MODE !== 'mtls' ||
      (c.INGEST_TLS_CERT_FILE && c.INGEST_TLS_KEY_FILE && c.INGEST_TLS_CA_FILE),
    {
      message: 'INGEST_AUTH_MODE=mtls needs INGEST_TLS_CERT_FILE, INGEST_TLS_KEY_FILE and INGEST_TLS_CA_FILE',
      path: ['INGEST_AUTH_MODE'],
    },
  )
  .refine((c) => !c.INGEST_TLS_CERT_FILE === !c.INGEST_TLS_KEY_FILE, {
    message: 'set both INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE, or neither',
    path: ['INGEST_TLS_CERT_FILE'],
  });
export type IngestConfig = z.infer<typeof IngestConfigSchema>;
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
