import { callEventToHandoff, CallEventLine, CARRIER_ID, readCallEventLines } from '@eagle-eye/contracts';
import { ReplayEvent } from './backtest-replay';

export interface SourceCounters {
  lines: number;
  /** events read and handed to the replay */
  events: number;
  /** lines refused, by reason (never with a value from the line) */
  refused: Map<string, number>;
  /** the first few refusals, for the operator to find the lines */
  examples: { line: number; eventId: string; reason: string }[];
}

export function newCounters(): SourceCounters {
  return { lines: 0, events: 0, refused: new Map(), examples: [] };
}

/**
 * The events of an NDJSON export (libs/contracts call-event-ndjson.ts) in their hand-off form, by
 * ingest's own validation: what ingest refuses, the backtest refuses too (counted, not replayed).
 * A bare event (no carrierId on its line) belongs to `defaultCarrier`; without one it is refused.
 */
export async function* ndjsonEvents(
  lines: AsyncIterable<CallEventLine>,
  defaultCarrier: string | undefined,
  counters: SourceCounters,
): AsyncGenerator<ReplayEvent> {
  if (defaultCarrier !== undefined && !CARRIER_ID.test(defaultCarrier))
    throw new Error(`not a carrier id: ${JSON.stringify(defaultCarrier)}`);
  const refuse = (line: number, eventId: string, reason: string): void => {
    counters.refused.set(reason, (counters.refused.get(reason) ?? 0) + 1);
    if (counters.examples.length < 5) counters.examples.push({ line, eventId, reason });
  };
  for await (const l of lines) {
    if (!l.ok) {
      refuse(l.line, l.eventId, l.reason);
      continue;
    }
    const carrierId = l.carrierId ?? defaultCarrier;
    if (!carrierId) {
      refuse(l.line, l.event.eventId, 'no carrier: the line has no carrierId and --carrier was not given');
      continue;
    }
    const ev = callEventToHandoff(l.event);
    if (typeof ev === 'string') {
      // the reason names the field, never its value (ingest's messages)
      refuse(l.line, ev.startsWith('CLEAR_PHONE_NUMBER') ? '(withheld)' : l.event.eventId, ev);
      continue;
    }
    counters.events++;
    yield { carrierId, event: ev };
  }
}

/** An NDJSON file (or `-`, standard input) as replay events. */
export function ndjsonFileEvents(
  path: string,
  defaultCarrier: string | undefined,
  counters: SourceCounters,
): AsyncGenerator<ReplayEvent> {
  const lineCounter = {
    get lines() {
      return counters.lines;
    },
    set lines(n: number) {
      counters.lines = n;
    },
  };
  return ndjsonEvents(readCallEventLines(path, lineCounter), defaultCarrier, counters);
}
