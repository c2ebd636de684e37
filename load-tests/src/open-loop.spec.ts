import * as grpc from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';
import { runLoadgen } from './open-loop';
import { startTransportSink } from './transport-sink';

/** A server that acks in order but holds every ack until `releaseAt` (a stall). */
async function stallingServer(stallMs: number): Promise<{ port: number; stop: () => void }> {
  const server = new grpc.Server();
  const started = Date.now();
  const impl: ingestV1.CallRecordIngestServer = {
    streamCallEvents(call) {
      call.on('data', (b: ingestV1.CallEventBatch) => {
        const wait = Math.max(0, started + stallMs - Date.now());
        setTimeout(
          () => call.write({ sequence: b.sequence, accepted: b.events.length, duplicates: 0, rejected: [] }),
          wait,
        );
      });
      call.on('end', () => call.end());
    },
    submitCallEvents(_call, cb) {
      cb(null, { sequence: 0, accepted: 0, duplicates: 0, rejected: [] });
    },
  };
  server.addService(ingestV1.CallRecordIngestService, impl);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  return { port, stop: () => server.forceShutdown() };
}

const traffic = { mode: 'background' as const, populationSpace: 'AbCdBg', runTag: 'Test', population: 1000 };

describe('open-loop load generator', () => {
  it('sends on schedule for the given duration and stops by itself', async () => {
    const sink = await startTransportSink();
    try {
      const r = await runLoadgen({
        target: `127.0.0.1:${sink.port}`,
        mode: 'open',
        ratePerS: 4000,
        batchSize: 100,
        durationS: 1,
        streams: 2,
        traffic,
      });
      expect(r.batches.scheduled).toBe(40);
      expect(r.batches.sent + r.batches.dropped).toBe(40);
      expect(r.events.acked).toBe(r.batches.acked * 100);
      expect(r.events.accepted).toBe(r.events.acked);
      expect(r.ackLatency.count).toBe(r.batches.acked);
      expect(r.errors).toEqual([]);
      // warm-up batches are real but are not in the figures
      expect(sink.events()).toBe(r.events.acked + r.warmupEvents);
    } finally {
      await sink.stop();
    }
  });

  it('measures latency from the intended send time, so a stalled server shows as latency (no coordinated omission)', async () => {
    const srv = await stallingServer(1500);
    try {
      const r = await runLoadgen({
        target: `127.0.0.1:${srv.port}`,
        mode: 'open',
        ratePerS: 2000,
        batchSize: 100,
        durationS: 1,
        streams: 1,
        maxInFlightPerStream: 1000,
        warmupBatchesPerStream: 0,
        traffic,
      });
      // All 20 batches were sent on time although none was acked for 1.5 s: the first one waited
      // ~1.5 s, so the worst latency is about the stall, not about one request's service time.
      expect(r.batches.sent).toBe(20);
      expect(r.ackLatency.maxMs).toBeGreaterThan(1300);
      expect(r.ackLatency.p50Ms).toBeGreaterThan(500);
    } finally {
      srv.stop();
    }
  });

  it('drops (and counts) batches beyond the in-flight limit instead of queueing them', async () => {
    const srv = await stallingServer(1500);
    try {
      const r = await runLoadgen({
        target: `127.0.0.1:${srv.port}`,
        mode: 'open',
        ratePerS: 2000,
        batchSize: 100,
        durationS: 1,
        streams: 1,
        maxInFlightPerStream: 5,
        warmupBatchesPerStream: 0,
        traffic,
      });
      expect(r.batches.sent).toBe(5);
      expect(r.batches.dropped).toBe(15);
    } finally {
      srv.stop();
    }
  });

  it('counts probe calls without a probe listener', async () => {
    const sink = await startTransportSink();
    try {
      const r = await runLoadgen({
        target: `127.0.0.1:${sink.port}`,
        mode: 'open',
        ratePerS: 2000,
        batchSize: 100,
        durationS: 3,
        streams: 1,
        traffic: { ...traffic, instantProbesPerS: 5 },
      });
      // a probe counts when its answer goes out, two seconds after its attempt
      expect(r.probesSent).toBeGreaterThanOrEqual(3);
    } finally {
      await sink.stop();
    }
  });

  it('refuses targets off this machine before sending anything', async () => {
    await expect(
      runLoadgen({
        target: '192.0.2.1:50051',
        mode: 'open',
        ratePerS: 1,
        batchSize: 1,
        durationS: 1,
        traffic,
      }),
    ).rejects.toThrow(/not a loopback address/);
  });
});
