import { SpanKind } from '@opentelemetry/api';
import {
  contextFromHeaders,
  initTracing,
  linksTo,
  parseTraceparent,
  shutdownTracing,
  startSpan,
  traceIdOf,
  traceparentOf,
} from './tracing';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context helpers', () => {
  it('parses W3C traceparents and refuses malformed or all-zero ones', () => {
    expect(parseTraceparent(TP)).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ])
      expect(parseTraceparent(bad)).toBeUndefined();
    expect(traceIdOf(TP)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(linksTo([TP, TP, undefined, 'bad'])).toHaveLength(1);
  });

  describe('with the SDK registered', () => {
    beforeAll(() => initTracing({ service: 'ingest' }));
    afterAll(() => shutdownTracing());

    it('continues a carrier trace from metadata, or starts a new root', () => {
      const child = startSpan('ingest.batch', {
        parent: contextFromHeaders({ traceparent: TP }),
        kind: SpanKind.SERVER,
      });
      expect(child.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(child.spanContext().spanId).not.toBe('00f067aa0ba902b7');
      expect(traceparentOf(child)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      const root = startSpan('ingest.batch', { parent: contextFromHeaders({}) });
      expect(root.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(root.spanContext().traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      // the detector's span continues the trace the hand-off entry carried
      const next = startSpan('detector.alert', { parent: traceparentOf(child) });
      expect(next.spanContext().traceId).toBe(child.spanContext().traceId);
      for (const s of [child, root, next]) s.end();
    });
  });
});
