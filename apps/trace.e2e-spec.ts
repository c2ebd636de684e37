import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Metadata, status } from '@grpc/grpc-js';
import { AlertView } from '@eagle-eye/contracts';
import { apiKeyFor, DEMO_CARRIERS } from '@eagle-eye/db';
import { freePort, RunningApp, spawnApp, waitForHttp } from '@eagle-eye/testing';
import { Client, Stack, until } from './console/test/harness';
import { answeredByElderly, subscriberToken, unansweredFanOut } from './ingest/src/testing/call-events';
import { ingestClient, streamBatches } from './ingest/src/testing/ingest-client';

/**
 * One trace from the carrier to the operator: a batch sent over gRPC with a W3C traceparent
 * raises an alert whose socket event, REST detail (its history) and the log lines of ingest,
 * detector and worker all carry the batch's trace id. Built apps, real Redis and PostgreSQL.
 */
jest.setTimeout(120_000);

const CARRIER = DEMO_CARRIERS[0];

interface LogLine {
  msg?: string;
  trace_id?: string;
  span_id?: string;
  context?: string;
  service?: string;
}

function jsonLines(app: RunningApp): LogLine[] {
  return app
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe('a carrier batch traced to its alert', () => {
  const stack = new Stack();
  let ingest: RunningApp;
  let detector: RunningApp;
  let grpcPort = 0;
  let client: ReturnType<typeof ingestClient>;
  // an OTLP/HTTP collector: what the apps export when OTEL_EXPORTER_OTLP_ENDPOINT names one
  let collector: Server;
  const exported: { url: string; body: Buffer }[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        exported.push({ url: req.url ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    };
    await stack.start({ workerEnv: { LOG_LEVEL: 'debug', ...otel } });
    grpcPort = await freePort();
    const ingestHttp = await freePort();
    const detectorHttp = await freePort();
    ingest = spawnApp('ingest', {
      ...stack.env(),
      INGEST_GRPC_PORT: String(grpcPort),
      INGEST_HTTP_PORT: String(ingestHttp),
      HANDOFF_PARTITIONS: '4',
      LOG_LEVEL: 'debug',
      ...otel,
    });
    detector = spawnApp('detector', {
      ...stack.env(),
      DETECTOR_HTTP_PORT: String(detectorHttp),
      HANDOFF_PARTITIONS: '4',
      DETECTOR_CONSUMER_NAME: 'trace-e2e',
      LOG_LEVEL: 'debug',
      ...otel,
    });
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${ingestHttp}/readyz`, ingest, 60_000),
      waitForHttp(`http://127.0.0.1:${detectorHttp}/readyz`, detector, 60_000),
    ]);
    client = ingestClient(`127.0.0.1:${grpcPort}`);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    for (const app of [ingest, detector]) if (app) await app.stop();
    await stack.stop();
    await new Promise<void>((r) => collector.close(() => r()));
  }, 60_000);

  function metadata(traceparent?: string): Metadata {
    const md = new Metadata();
    md.set('authorization', `Bearer ${apiKeyFor(CARRIER.keyId, CARRIER.secret)}`);
    if (traceparent) md.set('traceparent', traceparent);
    return md;
  }

  it('carries the traceparent from the gRPC batch to the socket event, the REST detail and every log', async () => {
    const supervisor = new Client(stack.url, await stack.login('supervisor', 'demo-supervisor'));
    try {
      await supervisor.connected();
      const now = Date.now();
      const tag = randomBytes(4).toString('hex');
      const scammer = subscriberToken(70_000 + Math.floor(Math.random() * 10_000));
      // a call centre's last half hour: 30 strangers, none answered (a batch without a trace)
      const history = unansweredFanOut({
        tag,
        scammer,
        firstMs: now - 20_000 - 30 * 60_000,
        spacingMs: 60_000,
        calleeBase: 80_000,
      });
      const first = await streamBatches(client, metadata(), [{ sequence: 1, events: history }]);
      expect(first.code).toBe(status.OK);
      expect(first.acks[0].accepted).toBe(60);

      // then an elderly subscriber answers it: this batch carries the carrier's trace context
      const traceId = randomBytes(16).toString('hex');
      const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
      const victim = subscriberToken(90_000 + Math.floor(Math.random() * 9_000));
      const callId = `${tag}-victim`;
      const second = await streamBatches(client, metadata(traceparent), [
        { sequence: 2, events: answeredByElderly(callId, scammer, victim, now) },
      ]);
      expect(second.code).toBe(status.OK);
      expect(second.acks[0].accepted).toBe(2);

      // the operator's socket event names the batch's trace
      const alert = await until(
        () => supervisor.created().find((a: AlertView) => a.callId === callId),
        'the victim-on-call alert',
        30_000,
      );
      expect(alert.kind).toBe('victim_on_call');
      expect(alert.traceId).toBe(traceId);
      // and the alert's REST detail keeps it in the history of the change
      const token = await stack.login('supervisor', 'demo-supervisor');
      const res = await fetch(`${stack.url}/api/alerts/${alert.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const detail = (await res.json()) as {
        traceId?: string | null;
        history: { action: string; detail: { traceId?: string } }[];
      };
      expect(detail.history.find((h) => h.action === 'created')?.detail.traceId).toBe(traceId);
      // and the REST AlertView itself names it (alerts.trace_id, migration 096)
      expect(detail.traceId).toBe(traceId);

      // every app logged the batch's trace id: ingest's ack, the detector's alert, the worker's row
      await until(
        () => jsonLines(stack.worker!).some((l) => l.trace_id === traceId),
        'the worker log line',
        10_000,
      );
      const ingestLines = jsonLines(ingest).filter((l) => l.trace_id === traceId);
      const detectorLines = jsonLines(detector).filter((l) => l.trace_id === traceId);
      const workerLines = jsonLines(stack.worker!).filter((l) => l.trace_id === traceId);
      expect(ingestLines.map((l) => l.msg)).toEqual([
        expect.stringMatching(/^batch 2 of carrier carrier-a acked: 2 accepted/),
      ]);
      expect(detectorLines.map((l) => l.msg)).toContainEqual(
        expect.stringMatching(/^raised victim_on_call \((warning|critical), score [\d.]+\) for call /),
      );
      expect(workerLines.map((l) => l.msg)).toContainEqual(
        `alert ${alert.id} created (victim_on_call, ${alert.severity}, seq ${alert.seq})`,
      );
      for (const l of [...ingestLines, ...detectorLines, ...workerLines])
        expect(l.span_id).toMatch(/^[0-9a-f]{16}$/);
      // three processes, three spans of one trace
      expect(new Set([ingestLines[0].span_id, detectorLines[0].span_id, workerLines[0].span_id]).size).toBe(
        3,
      );

      // the batch without a traceparent got a trace of its own (a new root), not the carrier's
      const otherIngest = jsonLines(ingest).find((l) => /^batch 1 of carrier/.test(l.msg ?? ''));
      expect(otherIngest?.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(otherIngest?.trace_id).not.toBe(traceId);
    } finally {
      supervisor.close();
    }
  });

  it('exports the spans of every app to the configured OTLP endpoint', async () => {
    // the batch span processors flush every few seconds; stopping the apps flushes the rest
    for (const app of [ingest, detector, stack.worker!]) expect(await app.stop()).toBe(0);
    const text = () => Buffer.concat(exported.map((e) => e.body)).toString('latin1');
    await until(
      () =>
        ['ingest.batch', 'detector.round', 'detector.alert', 'alert.job'].every((n) => text().includes(n)),
      'exported spans',
      15_000,
    );
    expect(new Set(exported.map((e) => e.url))).toEqual(new Set(['/v1/traces']));
    for (const service of ['ingest', 'detector', 'alert-worker']) expect(text()).toContain(service);
  });
});
