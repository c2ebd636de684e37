import { ChannelCredentials, ClientDuplexStream, Metadata, ServiceError, status } from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';

type CallEvent = ingestV1.CallEvent;
type Batch = ingestV1.CallEventBatch;
type Ack = ingestV1.BatchAck;
type Client = InstanceType<typeof ingestV1.CallRecordIngestClient>;

/**
 * The carrier's side of the ingest contract, for the project's own tools (`npm run send`): streams
 * events in numbered batches over StreamCallEvents, keeps every batch until its ack, and on a broken
 * stream (ingest restarted, UNAVAILABLE, RESOURCE_EXHAUSTED with its retry hint) reconnects and
 * resends from the first unacked batch. Ingest deduplicates on event_id, so a resend is harmless.
 * Errors that a resend cannot fix (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT) stop it.
 */
export interface SendOptions {
  client: Client;
  /** call metadata (authorization for API keys; none with mTLS) */
  metadata: Metadata;
  /** events per batch */
  batchEvents: number;
  /** batches sent ahead of their acks */
  window: number;
  /** consecutive failed connections without one ack in between before giving up */
  maxRetries: number;
  /** the longest wait between reconnections, ms */
  maxBackoffMs: number;
  /** an event ingest refused (the batch was acked, this event will never count) */
  onRejected?: (event: CallEvent, code: string, detail: string) => void;
  /** after every ack: the totals so far */
  onAck?: (totals: SendTotals) => void;
  /** a reconnection is coming: why, and after how long */
  onRetry?: (reason: string, waitMs: number) => void;
}

export interface SendTotals {
  sent: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  batchesAcked: number;
  reconnects: number;
}

export class SendError extends Error {
  constructor(
    message: string,
    readonly code: status,
    readonly totals: SendTotals,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

const FATAL = new Set([
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.INVALID_ARGUMENT,
  status.UNIMPLEMENTED,
]);

interface Pending {
  batch: Batch;
}

export async function sendEvents(source: AsyncIterable<CallEvent>, o: SendOptions): Promise<SendTotals> {
  const totals: SendTotals = {
    sent: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    batchesAcked: 0,
    reconnects: 0,
  };
  const input = source[Symbol.asyncIterator]();
  let exhausted = false;
  let sequence = 0;
  /** batches sent (or to resend) and not yet acked, in sequence order */
  const pending: Pending[] = [];

  const nextBatch = async (): Promise<Batch | null> => {
    if (exhausted) return null;
    const events: CallEvent[] = [];
    while (events.length < o.batchEvents) {
      const r = await input.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      events.push(r.value);
    }
    if (!events.length) return null;
    totals.sent += events.length;
    return { sequence: ++sequence, events };
  };

  let failures = 0;
  let inputError: Error | null = null;
  for (;;) {
    const outcome = await runStream();
    if (inputError) throw inputError;
    if (outcome.done) return totals;
    const err = outcome.error;
    if (FATAL.has(err.code))
      throw new SendError(
        `ingest refused the stream: ${err.details} (${status[err.code]})`,
        err.code,
        totals,
      );
    failures = outcome.progressed ? 1 : failures + 1;
    if (failures > o.maxRetries)
      throw new SendError(
        `gave up after ${o.maxRetries} reconnections without an ack: ${err.details} (${status[err.code]})`,
        err.code,
        totals,
      );
    const hinted = Number(err.metadata?.get('retry-after-ms')[0]);
    const wait =
      Number.isFinite(hinted) && hinted > 0 ? hinted : Math.min(o.maxBackoffMs, 250 * 2 ** (failures - 1));
    o.onRetry?.(`${status[err.code]}: ${err.details}`, wait);
    await new Promise((r) => setTimeout(r, wait));
    totals.reconnects++;
  }

  /** One StreamCallEvents call: resend what is pending, then go on with the input until it ends. */
  function runStream(): Promise<{ done: true } | { done: false; error: ServiceError; progressed: boolean }> {
    return new Promise((resolve) => {
      const call: ClientDuplexStream<Batch, Ack> = o.client.streamCallEvents(o.metadata);
      let progressed = false;
      let settled = false;
      let ended = false;
      let filling = false;
      const finish = (
        r: { done: true } | { done: false; error: ServiceError; progressed: boolean },
      ): void => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      const fill = async (): Promise<void> => {
        if (filling || settled) return;
        filling = true;
        try {
          while (!settled && pending.length < o.window) {
            const b = await nextBatch();
            if (!b) break;
            pending.push({ batch: b });
            call.write(b);
          }
          if (exhausted && !pending.length && !ended) {
            ended = true;
            call.end();
          }
        } catch (e) {
          // the input failed (an unreadable file): stop, and the run ends with that error
          inputError = e as Error;
          call.cancel();
          finish({
            done: false,
            error: {
              code: status.ABORTED,
              details: inputError.message,
              metadata: new Metadata(),
            } as ServiceError,
            progressed,
          });
        } finally {
          filling = false;
        }
      };
      call.on('data', (ack: Ack) => {
        const head = pending[0];
        if (!head || head.batch.sequence !== ack.sequence) {
          call.cancel();
          finish({
            done: false,
            error: {
              code: status.INTERNAL,
              details: `ack for sequence ${ack.sequence}, expected ${head?.batch.sequence ?? 'none'}`,
              metadata: new Metadata(),
            } as ServiceError,
            progressed,
          });
          return;
        }
        pending.shift();
        progressed = true;
        totals.batchesAcked++;
        totals.accepted += ack.accepted;
        totals.duplicates += ack.duplicates;
        totals.rejected += ack.rejected.length;
        for (const r of ack.rejected)
          o.onRejected?.(
            head.batch.events[r.index],
            ingestV1.RejectionReason[r.code] ?? String(r.code),
            r.message,
          );
        o.onAck?.(totals);
        void fill();
      });
      call.on('error', (e: ServiceError) => finish({ done: false, error: e, progressed }));
      call.on('status', (s: { code: status; details: string; metadata: Metadata }) => {
        if (s.code === status.OK && exhausted && !pending.length) finish({ done: true });
        else if (s.code === status.OK)
          finish({
            done: false,
            error: {
              code: status.UNAVAILABLE,
              details: 'ingest ended the stream early',
              metadata: s.metadata,
            } as ServiceError,
            progressed,
          });
      });
      // resend everything unacked, in order, then continue with new batches
      for (const p of pending) call.write(p.batch);
      void fill();
    });
  }
}

/** The credentials for a target: TLS with the given CA (or the system's), or plain text when asked. */
export function channelCredentials(
  credentialsApi: typeof import('@grpc/grpc-js').credentials,
  o: { insecure: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer },
): ChannelCredentials {
  if (o.insecure) return credentialsApi.createInsecure();
  return credentialsApi.createSsl(o.ca ?? null, o.key ?? null, o.cert ?? null);
}
