import { ChannelCredentials, credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';

/** A carrier-side client for tests and benchmarks. */
export function ingestClient(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  return new ingestV1.CallRecordIngestClient(address, creds, {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
}

export function bearer(apiKey: string | undefined): Metadata {
  const md = new Metadata();
  if (apiKey !== undefined) md.set('authorization', `Bearer ${apiKey}`);
  return md;
}

export interface StreamResult {
  acks: ingestV1.BatchAck[];
  /** final status of the call */
  code: status;
  details: string;
  trailers?: Metadata;
}

/**
 * Streams the batches and collects the acks until the server ends the call. `onAck` may cancel the
 * call (return 'cancel') to simulate a carrier that drops mid-stream.
 */
export function streamBatches(
  client: ReturnType<typeof ingestClient>,
  metadata: Metadata,
  batches: ingestV1.CallEventBatch[],
  onAck?: (ack: ingestV1.BatchAck) => 'cancel' | void,
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const call = client.streamCallEvents(metadata);
    const acks: ingestV1.BatchAck[] = [];
    let done = false;
    const finish = (r: Omit<StreamResult, 'acks'>): void => {
      if (done) return;
      done = true;
      resolve({ acks, ...r });
    };
    call.on('data', (ack: ingestV1.BatchAck) => {
      acks.push(ack);
      if (onAck?.(ack) === 'cancel') {
        call.cancel();
        finish({ code: status.CANCELLED, details: 'cancelled by the client' });
      }
    });
    call.on('error', (e: ServiceError) => finish({ code: e.code, details: e.details, trailers: e.metadata }));
    call.on('status', (s: { code: status; details: string; metadata: Metadata }) =>
      finish({ code: s.code, details: s.details, trailers: s.metadata }),
    );
    for (const b of batches) call.write(b);
    call.end();
  });
}

export function submit(
  client: ReturnType<typeof ingestClient>,
  metadata: Metadata,
  batch: ingestV1.CallEventBatch,
): Promise<ingestV1.BatchAck> {
  return new Promise((resolve, reject) =>
    client.submitCallEvents(batch, metadata, (err, ack) => (err ? reject(err) : resolve(ack))),
  );
}
