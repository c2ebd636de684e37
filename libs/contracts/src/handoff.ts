import { unpackEvents } from './handoff-packed';

/**
 * The hand-off between apps/ingest and apps/detector: Redis Streams, one per partition.
 *
 * - Partition = fnv1a32(caller token) % HANDOFF_PARTITIONS: every event of one calling number (so
 *   every event of one call) lands in one stream, in the order ingest accepted it. A detector replica
 *   that owns a partition (apps/detector partition-leases.ts) is then the only one applying its
 *   numbers' caller windows. (Until 2026-12 the partition was fnv1a32(carrierId + '/' + callId).)
 * - Stream key: `ee:{h<partition>}:events` (see libs/redis keys.ts); every key ingest's hand-off
 *   script touches carries the same `{h<partition>}` hash tag.
 * - One stream entry carries many events of one carrier (one chunk of one gRPC batch): field `c` is
 *   the carrier id, field `p` the events in the packed encoding (handoff-packed.ts). Fewer, larger
 *   entries keep Redis well below its command-rate ceiling at 100k events/s. Entries of an earlier
 *   ingest carry field `e` instead, a JSON array of HandoffEvent; the detector reads both.
 * - Field `t` (optional, once per entry, never per event): the W3C traceparent of ingest's span for
 *   the gRPC batch the entry came from, so the detector's alerts continue the carrier's trace.
 *   Entries written before it (or by an ingest without tracing) have none; they decode as before.
 * - The detector reads with a consumer group (`detector`), acknowledges and deletes an entry once
 *   every event in it has been applied.
 */
export type CallEventKind = 'ATTEMPT' | 'ANSWERED' | 'ENDED';
export type CallerClassName =
  'MOBILE' | 'FIXED' | 'VIRTUAL_OPERATOR' | 'INTERNATIONAL' | 'SERVICE' | 'UNKNOWN';
export type Attestation = 'A' | 'B' | 'C' | 'UNVERIFIED';
export type AgeBandName = 'UNDER_18' | '18_28' | '29_45' | '46_64' | '65_PLUS' | 'UNKNOWN';

export interface HandoffEvent {
  /** event id, unique per carrier */
  id: string;
  /** call id */
  call: string;
  type: CallEventKind;
  /** event time at the switch, epoch ms */
  t: number;
  caller: string;
  callee: string;
  cls: CallerClassName;
  /** ISO 3166-1 alpha-2 */
  country: string;
  att: Attestation;
  /** display mismatch */
  mis: boolean;
  region: string;
  cell?: string;
  device?: string;
  age: AgeBandName;
  /** talk duration in seconds, ENDED only */
  talk?: number;
  cause?: string;
  /** when ingest accepted it, epoch ms: the start of the detection-latency clock */
  rx: number;
}

export interface HandoffEntry {
  carrierId: string;
  events: HandoffEvent[];
  /** W3C traceparent of the batch's ingest span (field `t`), when the entry has one */
  trace?: string;
}

export const HANDOFF_GROUP = 'detector';
export const HANDOFF_FIELD_CARRIER = 'c';
/** the events as a JSON array (entries written before the packed encoding) */
export const HANDOFF_FIELD_EVENTS = 'e';
/** the events in the packed encoding (handoff-packed.ts) */
export const HANDOFF_FIELD_PACKED = 'p';
/** the W3C traceparent of the ingest batch (once per entry) */
export const HANDOFF_FIELD_TRACE = 't';
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** 32-bit FNV-1a: cheap, stable across processes and languages. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The hand-off partition of an event: by its calling number's token (see the header). */
export function handoffPartition(caller: string, partitions: number): number {
  return fnv1a32(caller) % partitions;
}

export function encodeHandoffEvents(events: HandoffEvent[]): string {
  return JSON.stringify(events);
}

export function decodeHandoffEntry(fields: string[]): HandoffEntry {
  let carrierId: string | undefined;
  let events: HandoffEvent[] | undefined;
  let trace: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const f = fields[i];
    if (f === HANDOFF_FIELD_CARRIER) carrierId = fields[i + 1];
    // a malformed trace context costs the entry its trace, never its events
    else if (f === HANDOFF_FIELD_TRACE) trace = TRACEPARENT.test(fields[i + 1]) ? fields[i + 1] : undefined;
    else if (f === HANDOFF_FIELD_PACKED) events = unpackEvents(fields[i + 1]);
    else if (f === HANDOFF_FIELD_EVENTS) events = JSON.parse(fields[i + 1]) as HandoffEvent[];
  }
  if (carrierId === undefined || events === undefined) {
    throw new Error(`hand-off entry lacks field ${carrierId === undefined ? 'c' : 'p'}`);
  }
  return trace ? { carrierId, events, trace } : { carrierId, events };
}

/** How many events an entry carries, without decoding them (for observers of the backlog). */
export function handoffEntryEventCount(fields: string[]): number {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1];
    if (fields[i] === HANDOFF_FIELD_PACKED) return v === '' ? 0 : v.split('\n').length;
    if (fields[i] === HANDOFF_FIELD_EVENTS) return (JSON.parse(v) as unknown[]).length;
  }
  return 0;
}

/** Partition count when HANDOFF_PARTITIONS is not set; ingest and detector must agree on it. */
export const HANDOFF_DEFAULT_PARTITIONS = 16;
