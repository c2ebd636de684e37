import {
  Context,
  context,
  isSpanContextValid,
  Link,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-node';

/**
 * Traces: one trace per carrier batch, from the gRPC call (the carrier's W3C `traceparent` when it
 * sends one, a new root otherwise) through the hand-off entry (field `t`), the detector's alert, the
 * alert job and the alert's socket event. Spans are per batch, round and job, never per event.
 *
 * The SDK always runs (trace ids for logs and hand-offs); spans leave the process only when
 * OTEL_EXPORTER_OTLP_ENDPOINT names a collector (OTLP over HTTP, `<endpoint>/v1/traces`).
 */
export interface TracingOptions {
  service: string;
  /** OTLP/HTTP endpoint (without /v1/traces); unset: no exporter */
  otlpEndpoint?: string;
  version?: string;
}

let provider: NodeTracerProvider | null = null;
const propagator = new W3CTraceContextPropagator();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Registers the tracer provider, the context manager and the W3C propagator (once per process). */
export function initTracing(opts: TracingOptions): void {
  if (provider) return;
  const spanProcessors: SpanProcessor[] = [];
  if (opts.otlpEndpoint) {
    const url = `${opts.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': opts.service,
      'service.namespace': 'eagle-eye',
      ...(opts.version ? { 'service.version': opts.version } : {}),
    }),
    spanProcessors,
  });
  provider.register({ propagator });
}

/** Flushes and stops the exporter (shutdown). */
export async function shutdownTracing(): Promise<void> {
  const p = provider;
  provider = null;
  if (!p) return;
  await p.shutdown();
  // unregistered, so a later initTracing (a test) registers afresh
  trace.disable();
  context.disable();
  propagation.disable();
}

export function tracer(): Tracer {
  return trace.getTracer('eagle-eye');
}

/** The span context of a W3C traceparent, or undefined when it is absent or malformed. */
export function parseTraceparent(value: string | undefined | null): SpanContext | undefined {
  if (!value) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const sc: SpanContext = {
    traceId: m[1],
    spanId: m[2],
    traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(sc) ? sc : undefined;
}

/** A context whose parent is the given traceparent (the root context when it is absent or invalid). */
export function contextFromTraceparent(value: string | undefined | null): Context {
  const sc = parseTraceparent(value);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** A context from carrier headers (gRPC metadata as a plain object): `traceparent`, `tracestate`. */
export function contextFromHeaders(headers: Record<string, string | undefined>): Context {
  return propagator.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** The W3C traceparent of a span (undefined when it has no valid context: no SDK registered). */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (!span) return undefined;
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The trace id of a traceparent (for the alert's history and socket event). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/** Fields that put a log line in a span's trace (pino mixin uses the active span instead). */
export function traceFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const sc = span?.spanContext();
  if (!sc || !isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/** Starts a span under a traceparent (or as a new root), with optional links. */
export function startSpan(
  name: string,
  opts: {
    parent?: string | Context;
    kind?: SpanKind;
    links?: Link[];
    attributes?: Record<string, string | number | boolean>;
  } = {},
): Span {
  const parent =
    typeof opts.parent === 'string' || opts.parent === undefined
      ? contextFromTraceparent(opts.parent)
      : opts.parent;
  return tracer().startSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, links: opts.links, attributes: opts.attributes },
    parent,
  );
}

/** Links to the distinct traceparents among `values` (at most `max`, the first ones). */
export function linksTo(values: Iterable<string | undefined>, max = 32): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const v of values) {
    if (!v || seen.has(v)) continue;
    seen.add(v);
    const sc = parseTraceparent(v);
    if (sc) links.push({ context: sc });
    if (links.length >= max) break;
  }
  return links;
}

/** Ends a span with an error status. */
export function failSpan(span: Span, e: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message ?? String(e) });
  span.end();
}

/** Runs fn with span active (log lines written inside carry its trace_id and span_id). */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

export { SpanKind };
