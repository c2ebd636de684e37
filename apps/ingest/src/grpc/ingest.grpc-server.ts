import { readFileSync } from 'node:fs';
import {
  Metadata,
  Server,
  ServerCredentials,
  ServerDuplexStream,
  ServerInterceptingCall,
  ServerInterceptingCallInterface,
  ServerInterceptor,
  ServerUnaryCall,
  sendUnaryData,
  status,
  ServiceError,
} from '@grpc/grpc-js';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { ingestV1 } from '@eagle-eye/contracts';
import {
  contextFromHeaders,
  failSpan,
  ReadinessRegistry,
  SpanKind,
  startSpan,
  traceparentOf,
  withSpan,
} from '@eagle-eye/observability';
import type { Context, Span } from '@opentelemetry/api';
import { AuthenticationError, CarrierAuthenticator } from '../auth/carrier.authenticator';
import { IngestConfig, INGEST_CONFIG } from '../config';
import { BacklogMonitor } from '../handoff/backlog.monitor';
import { ingestMetrics } from '../ingest.metrics';
import { BatchRefusedError, IngestService, PreparedBatch } from '../ingest.service';
import { CarrierCalls, refusalDetails } from './carrier-calls';
import { addHealthAndReflection, GrpcHealth } from './health-reflection';

type Batch = ingestV1.CallEventBatch;
type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;
type Ack = ingestV1.BatchAck;

/**
 * Metadata key under which the authentication interceptor hands the carrier id to the handlers;
 * any value a client sends under it is removed first.
 */
const AUTHENTICATED_CARRIER = 'x-eagleeye-authenticated-carrier';
/** the carrier-facing service: every other one (health, reflection) needs no credentials */
const INGEST_SERVICE_PATH = '/eagleeye.v1.CallRecordIngest/';

function grpcError(code: status, details: string, metadata?: Metadata): Partial<ServiceError> {
  return { code, details, message: details, metadata: metadata ?? new Metadata() };
}

/** The carrier's trace context from the call's metadata (W3C `traceparent`, `tracestate`). */
function traceContextOf(metadata: Metadata): Context {
  const get = (k: string): string | undefined => {
    const v = metadata.get(k)[0];
    return typeof v === 'string' ? v : undefined;
  };
  return contextFromHeaders({ traceparent: get('traceparent'), tracestate: get('tracestate') });
}

/**
 * One span per batch (never per event): under the carrier's traceparent when its call sent one,
 * else a new trace. Its traceparent rides in every hand-off entry of the batch (field `t`).
 */
function batchSpan(parent: Context, carrierId: string, batch: Batch, kind: 'stream' | 'unary'): Span {
  return startSpan('ingest.batch', {
    parent,
    kind: SpanKind.SERVER,
    attributes: {
      'rpc.system': 'grpc',
      'rpc.method': kind === 'stream' ? 'StreamCallEvents' : 'SubmitCallEvents',
      'eagleeye.carrier': carrierId,
      'eagleeye.batch.sequence': batch.sequence,
      'eagleeye.batch.events': batch.events.length,
    },
  });
}

/** Ends a batch's span with what its ack said, and logs the ack (debug) inside the trace. */
function endBatchSpan(span: Span, ack: Ack, carrierId: string, logger: Logger): void {
  span.setAttributes({
    'eagleeye.batch.accepted': ack.accepted,
    'eagleeye.batch.duplicates': ack.duplicates,
    'eagleeye.batch.rejected': ack.rejected.length,
  });
  withSpan(span, () =>
    logger.debug(
      `batch ${ack.sequence} of carrier ${carrierId} acked: ${ack.accepted} accepted, ${ack.duplicates} duplicates, ${ack.rejected.length} rejected`,
    ),
  );
  span.end();
}

/** One open StreamCallEvents call: in-order, pipelined processing with bounded memory. */
class StreamSession {
  private inFlight = 0;
  private issue: Promise<void> = Promise.resolve();
  private acks: Promise<void> = Promise.resolve();
  private failed = false;
  /** arrival number of the first batch refused or failed: later batches must not overtake it */
  private stopAfter = Infinity;
  private arrivals = 0;
  private halfClosed = false;
  private draining = false;
  private readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(
    private readonly call: ServerDuplexStream<Batch, Ack>,
    private readonly carrierId: string,
    private readonly service: IngestService,
    private readonly maxInFlight: number,
    private readonly logger: Logger,
    private readonly traceParent: Context,
  ) {
    this.settled = new Promise((r) => (this.settle = r));
  }

  start(): void {
    this.call.on('data', (batch: Batch) => this.onBatch(batch));
    this.call.on('end', () => {
      this.halfClosed = true;
      this.maybeFinish();
    });
    this.call.on('cancelled', () => {
      this.failed = true;
      this.settle();
    });
    this.call.on('error', () => {
      this.failed = true;
      this.settle();
    });
  }

  /** Its credentials stopped being valid (a revoked key): end the call now, acking nothing more. */
  revoke(details: string): void {
    if (this.failed) return;
    this.failed = true;
    this.call.pause();
    this.call.emit('error', grpcError(status.UNAUTHENTICATED, details));
    this.settle();
  }

  /** Stops reading, lets in-flight batches ack, then ends the call so the carrier resends elsewhere. */
  drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.call.pause();
      this.maybeFinish();
    }
    return this.settled;
  }

  private onBatch(batch: Batch): void {
    const arrival = ++this.arrivals;
    if (this.failed || this.draining || arrival > this.stopAfter) return;
    const receivedAt = Date.now();
    this.inFlight++;
    if (this.inFlight >= this.maxInFlight) this.call.pause();
    const span = batchSpan(this.traceParent, this.carrierId, batch, 'stream');
    let result: Promise<Ack>;
    try {
      const prepared: PreparedBatch = this.service.prepare(this.carrierId, batch, receivedAt);
      prepared.traceparent = traceparentOf(span);
      // Batches reach Redis in arrival order: each waits for the previous one to be issued.
      const ready = this.issue.then(() => this.service.awaitCapacity(prepared));
      result = ready.then(() => {
        if (arrival > this.stopAfter) throw new Error('an earlier batch of this stream failed');
        return this.service.handOff(prepared).catch((e: Error) => {
          this.stopAfter = Math.min(this.stopAfter, arrival);
          throw e;
        });
      });
      this.issue = ready.then(
        () => undefined,
        () => undefined,
      );
    } catch (e) {
      this.stopAfter = Math.min(this.stopAfter, arrival);
      result = Promise.reject(e as Error);
    }
    // The ack chain may reach this result only after earlier batches' Redis round trips; mark the
    // rejection handled now so Node does not treat it as unhandled (and exit) in the meantime.
    result.catch(() => undefined);
    // Acks go out in sequence order, each once its hand-off is durable.
    this.acks = this.acks.then(async () => {
      let ack: Ack;
      try {
        ack = await result;
      } catch (e) {
        failSpan(span, e);
        this.fail(e as Error);
        return;
      }
      endBatchSpan(span, ack, this.carrierId, this.logger);
      if (this.failed) return;
      const room = this.call.write(ack);
      ingestMetrics.ackLatency.observe((Date.now() - receivedAt) / 1000);
      // A carrier that stops reading acks: its HTTP/2 window closes and acks pile up here. The
      // batch keeps its in-flight slot until they drain, so reading stops at maxInFlight and the
      // carrier's own sends are held back by flow control (found by the chaos suite's slow-carrier:
      // ingest buffered every ack without bound).
      if (!room) await this.drained();
      if (this.failed) return;
      this.inFlight--;
      if (this.inFlight < this.maxInFlight && !this.draining) this.call.resume();
      this.maybeFinish();
    });
  }

  /** Resolves once the call's write buffer drained, or the call is gone. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        for (const ev of ['drain', 'cancelled', 'error', 'close'] as const) this.call.off(ev, done);
        resolve();
      };
      for (const ev of ['drain', 'cancelled', 'error', 'close'] as const) this.call.once(ev, done);
    });
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = true;
    if (e instanceof BatchRefusedError) {
      this.call.emit('error', grpcError(e.code, e.message, e.trailers));
    } else {
      this.logger.error(`hand-off failed for carrier ${this.carrierId}: ${e.message}`);
      ingestMetrics.batchesRefused.inc({ code: 'UNAVAILABLE' });
      this.call.emit(
        'error',
        grpcError(status.UNAVAILABLE, 'hand-off to the detector failed; resend from the last acked sequence'),
      );
    }
    this.settle();
  }

  private maybeFinish(): void {
    if (this.failed || this.inFlight > 0) return;
    if (this.halfClosed) {
      this.call.end();
      this.settle();
    } else if (this.draining) {
      this.failed = true;
      this.call.emit(
        'error',
        grpcError(
          status.UNAVAILABLE,
          'server shutting down; reconnect and resend from the last acked sequence',
        ),
      );
      this.settle();
    }
  }
}

/**
 * The carriers' gRPC endpoint: a raw grpc-js server (generated ts-proto codecs, direct control of
 * flow control) with the standard health service and reflection, owned by Nest's lifecycle.
 */
@Injectable()
export class IngestGrpcServer implements BeforeApplicationShutdown {
  private readonly logger = new Logger('IngestGrpc');
  private server?: Server;
  private health?: GrpcHealth;
  private readonly sessions = new Set<StreamSession>();
  private readonly calls: CarrierCalls;
  boundPort = 0;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly service: IngestService,
    private readonly auth: CarrierAuthenticator,
    private readonly readiness: ReadinessRegistry,
    private readonly backlog: BacklogMonitor,
  ) {
    this.calls = new CarrierCalls(
      config.INGEST_MAX_STREAMS_PER_CARRIER,
      config.INGEST_MAX_UNARY_PER_CARRIER,
      config.INGEST_MAX_CONNECTIONS_PER_CARRIER,
    );
  }

  async start(): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': this.config.INGEST_MAX_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30000,
      'grpc.keepalive_permit_without_calls': 1,
      // bounds the unary calls (one batch each) a single connection can hold in memory
      'grpc.max_concurrent_streams': 100,
      // old connections reconnect, so their credentials (a client certificate) are checked afresh
      'grpc.max_connection_age_ms': this.config.INGEST_MAX_CONNECTION_AGE_S * 1000,
      'grpc.max_connection_age_grace_ms': this.config.INGEST_MAX_CONNECTION_AGE_GRACE_S * 1000,
      interceptors: [this.authInterceptor],
    });
    server.addService(ingestV1.CallRecordIngestService, {
      streamCallEvents: (call: ServerDuplexStream<Batch, Ack>) => void this.onStream(call),
      submitCallEvents: (call: ServerUnaryCall<Batch, Ack>, cb: sendUnaryData<Ack>) =>
        void this.onUnary(call, cb),
    });
    this.health = addHealthAndReflection(server, this.readiness, this.config.INGEST_HEALTH_POLL_MS);
    const address = `${this.config.INGEST_GRPC_HOST}:${this.config.INGEST_GRPC_PORT}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, this.credentials(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.server = server;
    this.logger.log(`gRPC listening on ${address} (auth ${this.config.INGEST_AUTH_MODE})`);
    return this.boundPort;
  }

  private credentials(): ServerCredentials {
    const c = this.config;
    if (!c.INGEST_TLS_CERT_FILE || !c.INGEST_TLS_KEY_FILE) return ServerCredentials.createInsecure();
    const ca = c.INGEST_TLS_CA_FILE ? readFileSync(c.INGEST_TLS_CA_FILE) : null;
    return ServerCredentials.createSsl(
      ca,
      [
        {
          cert_chain: readFileSync(c.INGEST_TLS_CERT_FILE),
          private_key: readFileSync(c.INGEST_TLS_KEY_FILE),
        },
      ],
      c.INGEST_AUTH_MODE === 'mtls',
    );
  }

  private async authenticate(metadata: Metadata, authContext: AuthContext): Promise<string> {
    if (this.config.INGEST_AUTH_MODE === 'mtls') {
      return this.auth.fromCertificate(authContext.sslPeerCertificate);
    }
    const header = metadata.get('authorization')[0];
    return this.auth.fromAuthorization(typeof header === 'string' ? header : undefined);
  }

  /** Maps an authentication or lookup failure to the call's status. */
  private authFailure(e: unknown): Partial<ServiceError> & { code: status; details: string } {
    if (e instanceof AuthenticationError) {
      ingestMetrics.authFailures.inc({ cause: e.reason });
      return {
        ...grpcError(status.UNAUTHENTICATED, e.message),
        code: status.UNAUTHENTICATED,
        details: e.message,
      };
    }
    this.logger.error(`credential lookup failed: ${(e as Error).message}`);
    const details = 'credential lookup unavailable; retry';
    return { ...grpcError(status.UNAVAILABLE, details), code: status.UNAVAILABLE, details };
  }

  /**
   * Authentication from the call's metadata, before any message is read: the handler (which starts
   * reading) only sees a call whose credentials passed and whose carrier has a free call slot.
   * The carrier id reaches the handler in the metadata under AUTHENTICATED_CARRIER; the slot is
   * released when the call ends, however it ends.
   */
  private readonly authInterceptor: ServerInterceptor = (method, call) => {
    let release: (() => void) | null = null;
    const free = (): void => {
      release?.();
      release = null;
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            metadata.remove(AUTHENTICATED_CARRIER);
            if (!method.path.startsWith(INGEST_SERVICE_PATH)) return pass(metadata);
            const kind = method.requestStream ? 'stream' : 'unary';
            this.authenticate(metadata, call.getAuthContext()).then(
              (carrierId) => {
                const slot = this.calls.acquire(carrierId, kind, call.getPeer());
                if ('refused' in slot) {
                  ingestMetrics.callsRefused.inc({ kind: slot.refused });
                  const details = refusalDetails(carrierId, slot.refused, slot.limit);
                  call.sendStatus({ code: status.RESOURCE_EXHAUSTED, details, metadata: new Metadata() });
                  return;
                }
                release = slot.release;
                metadata.set(AUTHENTICATED_CARRIER, carrierId);
                pass(metadata);
              },
              (e: unknown) => {
                const f = this.authFailure(e);
                call.sendStatus({ code: f.code, details: f.details, metadata: new Metadata() });
              },
            );
          },
          onCancel: free,
        }),
      sendStatus: (st, next) => {
        free();
        next(st);
      },
    });
  };

  /** The carrier the interceptor authenticated (never a client-supplied value: it removes those). */
  private carrierOf(metadata: Metadata): string {
    const v = metadata.get(AUTHENTICATED_CARRIER)[0];
    if (typeof v !== 'string' || !v) throw new AuthenticationError('missing', 'call not authenticated');
    return v;
  }

  private async onStream(call: ServerDuplexStream<Batch, Ack>): Promise<void> {
    let carrierId: string;
    try {
      carrierId = this.carrierOf(call.metadata);
    } catch (e) {
      call.emit('error', this.authFailure(e));
      return;
    }
    const session = new StreamSession(
      call,
      carrierId,
      this.service,
      this.config.INGEST_STREAM_MAX_IN_FLIGHT,
      this.logger,
      traceContextOf(call.metadata),
    );
    this.sessions.add(session);
    ingestMetrics.openStreams.inc();
    session.start();
    // An open stream re-checks its credentials at half the cache's lifetime: a revoked key (or a
    // removed carrier) ends it within INGEST_AUTH_CACHE_TTL_MS and a half.
    const authContext = call.getAuthContext();
    const recheck = setInterval(
      () => {
        this.authenticate(call.metadata, authContext).then(
          (id) => {
            if (id !== carrierId) session.revoke('the credentials now name another carrier');
          },
          (e: unknown) => {
            if (!(e instanceof AuthenticationError)) return; // lookup unavailable: keep going, retry later
            ingestMetrics.authFailures.inc({ cause: `${e.reason}_open_stream` });
            this.logger.warn(`ended an open stream of carrier ${carrierId}: ${e.message}`);
            session.revoke(e.message);
          },
        );
      },
      Math.max(500, Math.floor(this.config.INGEST_AUTH_CACHE_TTL_MS / 2)),
    );
    recheck.unref();
    await new Promise<void>((resolve) => {
      const done = (): void => resolve();
      call.once('finish', done);
      call.once('cancelled', done);
      call.once('error', done);
      call.once('close', done);
    });
    clearInterval(recheck);
    this.sessions.delete(session);
    ingestMetrics.openStreams.dec();
  }

  private async onUnary(call: ServerUnaryCall<Batch, Ack>, cb: sendUnaryData<Ack>): Promise<void> {
    const receivedAt = Date.now();
    let carrierId: string;
    try {
      carrierId = this.carrierOf(call.metadata);
    } catch (e) {
      cb(this.authFailure(e));
      return;
    }
    const span = batchSpan(traceContextOf(call.metadata), carrierId, call.request, 'unary');
    try {
      const prepared = this.service.prepare(carrierId, call.request, receivedAt);
      prepared.traceparent = traceparentOf(span);
      await this.service.awaitCapacity(prepared);
      const ack = await this.service.handOff(prepared);
      ingestMetrics.ackLatency.observe((Date.now() - receivedAt) / 1000);
      endBatchSpan(span, ack, carrierId, this.logger);
      cb(null, ack);
    } catch (e) {
      failSpan(span, e);
      if (e instanceof BatchRefusedError) {
        cb(grpcError(e.code, e.message, e.trailers));
      } else {
        this.logger.error(`hand-off failed for carrier ${carrierId}: ${(e as Error).message}`);
        cb(grpcError(status.UNAVAILABLE, 'hand-off to the detector failed; resend the batch'));
      }
    }
  }

  /**
   * Graceful stop: no new calls, every open stream stops reading, acks what it has in flight and is
   * ended with UNAVAILABLE (the carrier reconnects and resends from its last ack). Runs before the
   * Redis and Postgres connections close, so in-flight hand-offs complete.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.health?.stop();
    this.backlog.close();
    const stopped = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await Promise.all([...this.sessions].map((s) => s.drain()));
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
    if ((await Promise.race([stopped, timeout])) === 'timeout') server.forceShutdown();
  }
}
