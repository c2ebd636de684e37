import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { classifyPseudonym, idLooksLikeNumber } from '@eagle-eye/pseudonym';
import { validateCallEvent } from './call-event.validator';
import * as ingestV1 from './generated/eagleeye/v1/ingest';
import { HandoffEvent } from './handoff';
import { CARRIER_ID } from './ids';

/**
 * Call events as NDJSON files, one JSON object a line, in the two shapes the project's tools write:
 * the proto3 JSON form of eagleeye.v1.CallEvent (`npm run pseudonymise`, read by `npm run send`), or
 * `{"carrierId": "...", "event": {...}}` (`npm run simulate -- --out`, one file for every carrier).
 * `npm run send` and the backtest read them here; the backtest then turns each event into its
 * hand-off form with ingest's own validation (callEventToHandoff), so it sees what ingest would.
 */
export type CallEventLine =
  | { ok: true; line: number; carrierId?: string; event: ingestV1.CallEvent }
  | { ok: false; line: number; eventId: string; reason: string };

/**
 * Parses one line. Blank lines: null. A line that cannot be used is refused with a reason that never
 * repeats a value; an event id that looks like a phone number is withheld from the refusal too.
 */
export function parseCallEventLine(raw: string, line: number): CallEventLine | null {
  if (!raw.trim()) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, line, eventId: '', reason: 'not a JSON object' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, line, eventId: '', reason: 'not a JSON object' };
  let carrierId: string | undefined;
  let body: unknown = json;
  if ('event' in json) {
    const wrapped = json as { carrierId?: unknown; event: unknown };
    if (typeof wrapped.carrierId !== 'string' || !CARRIER_ID.test(wrapped.carrierId))
      return { ok: false, line, eventId: '', reason: 'carrierId must be a carrier id beside "event"' };
    if (typeof wrapped.event !== 'object' || wrapped.event === null)
      return { ok: false, line, eventId: '', reason: '"event" is not a JSON object' };
    carrierId = wrapped.carrierId;
    body = wrapped.event;
  }
  let ev: ingestV1.CallEvent;
  try {
    ev = ingestV1.CallEvent.fromJSON(body);
  } catch {
    return { ok: false, line, eventId: '', reason: 'not a call event' };
  }
  const eventId = idLooksLikeNumber(ev.eventId) ? '(withheld)' : ev.eventId;
  const clear = (
    [
      ['caller', ev.caller],
      ['callee', ev.callee],
    ] as const
  ).find(([, v]) => classifyPseudonym(v) === 'clear_number');
  if (clear)
    return { ok: false, line, eventId, reason: `${clear[0]} is a clear phone number, not a pseudonym token` };
  const numberId = (
    [
      ['event_id', ev.eventId],
      ['call_id', ev.callId],
      ['callee_cell', ev.calleeCell],
    ] as const
  ).find(([, v]) => v && idLooksLikeNumber(v));
  if (numberId)
    return { ok: false, line, eventId, reason: `${numberId[0]} embeds what looks like a phone number` };
  if (ev.callerDevice && classifyPseudonym(ev.callerDevice) === 'clear_number')
    return { ok: false, line, eventId, reason: 'caller_device is a clear identifier, not a pseudonym token' };
  return carrierId === undefined ? { ok: true, line, event: ev } : { ok: true, line, carrierId, event: ev };
}

/** The lines of an NDJSON file (`-`: standard input), parsed; `counters.lines` counts every line read. */
export async function* readCallEventLines(
  path: string,
  counters: { lines: number } = { lines: 0 },
): AsyncGenerator<CallEventLine> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const raw of lines) {
    const parsed = parseCallEventLine(raw, ++counters.lines);
    if (parsed) yield parsed;
  }
}

/**
 * An exported event in its hand-off form, by ingest's validation, as of the event's own time (a
 * recording is old by nature: no age or clock-skew limit applies). `rx`, when ingest accepted it,
 * becomes the event time. A string: why ingest would have refused it.
 */
export function callEventToHandoff(ev: ingestV1.CallEvent): HandoffEvent | string {
  const t = typeof ev.eventTimeMs === 'number' ? ev.eventTimeMs : 0;
  const r = validateCallEvent(ev, t, { maxFutureSkewMs: 0, maxAgeMs: Number.MAX_SAFE_INTEGER });
  return 'code' in r ? `${ingestV1.rejectionReasonToJSON(r.code)}: ${r.message}` : r;
}
