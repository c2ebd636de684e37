import * as grpc from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';

/**
 * The transport ceiling: a CallRecordIngest server that only decodes each batch (the same ts-proto
 * decoder and grpc-js server as ingest) and acks it. Whatever the load generator reaches against it
 * is what gRPC + protobuf alone can carry on this machine; ingest can only do less.
 */
export interface TransportSink {
  port: number;
  /** events decoded so far */
  events(): number;
  stop(): Promise<void>;
}

export async function startTransportSink(port = 0, host = '127.0.0.1'): Promise<TransportSink> {
  let events = 0;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  const impl: ingestV1.CallRecordIngestServer = {
    streamCallEvents(call) {
      call.on('data', (batch: ingestV1.CallEventBatch) => {
        events += batch.events.length;
        call.write({ sequence: batch.sequence, accepted: batch.events.length, duplicates: 0, rejected: [] });
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    submitCallEvents(call, callback) {
      events += call.request.events.length;
      callback(null, {
        sequence: call.request.sequence,
        accepted: call.request.events.length,
        duplicates: 0,
        rejected: [],
      });
    },
  };
  server.addService(ingestV1.CallRecordIngestService, impl);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    port: bound,
    events: () => events,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}

// As a child process (the benchmark runs it apart from the generator, so each has a core):
// prints `listening <port>` and serves until SIGTERM or its parent goes away.
if (require.main === module) {
  const port = Number(process.argv[2] ?? 0);
  startTransportSink(port)
    .then((sink) => {
      process.stdout.write(`listening ${sink.port}\n`);
      const stop = (): void => {
        void sink.stop().then(() => process.exit(0));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.on('disconnect', stop);
    })
    .catch((e: Error) => {
      process.stderr.write(`transport sink: ${e.message}\n`);
      process.exit(1);
    });
}
