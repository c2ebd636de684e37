import {
  callEventToHandoff,
  CallEventLine,
  CARRIER_ID,
  decodeHandoffEntry,
  readCallEventLines,
} from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { ReplayEvent, ReplayRedis } from './backtest-replay';

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

/** XRANGE as the replay reads it (the same on a single Redis and a cluster: one key per call). */
interface StreamReader {
  xrange(key: string, start: string, end: string, count: 'COUNT', n: number): Promise<[string, string[]][]>;
}

/**
 * The events still retained in the hand-off streams (ingest -> detector) of a deployment, read
 * only (XRANGE: no consumer group, nothing acknowledged or deleted), every partition, in event-time
 * order (ties: partition, then stream order). They are already in hand-off form (ingest validated
 * them). The detector deletes an entry once it has applied it, so this is the backlog not yet
 * detected, or what a deployment keeps when its detector is stopped; an NDJSON export is the record
 * of a whole period. Entries are loaded in memory (ingest bounds the backlog per partition).
 */
export async function* handoffEvents(
  redis: ReplayRedis,
  keys: RedisKeys,
  partitions: number,
  counters: SourceCounters,
): AsyncGenerator<ReplayEvent> {
  const r = redis as unknown as StreamReader;
  const all: { p: number; i: number; e: ReplayEvent }[] = [];
  for (let p = 0; p < partitions; p++) {
    let start = '-';
    for (;;) {
      const page = await r.xrange(keys.handoffStream(p), start, '+', 'COUNT', 1000);
      for (const [id, fields] of page) {
        counters.lines++;
        let entry;
        try {
          entry = decodeHandoffEntry(fields);
        } catch (e) {
          const reason = `hand-off entry not decodable: ${(e as Error).message}`;
          counters.refused.set(reason, (counters.refused.get(reason) ?? 0) + 1);
          if (counters.examples.length < 5) counters.examples.push({ line: 0, eventId: id, reason });
          continue;
        }
        for (const event of entry.events)
          all.push({ p, i: all.length, e: { carrierId: entry.carrierId, event } });
      }
      if (page.length < 1000) break;
      start = `(${page[page.length - 1][0]}`;
    }
  }
  all.sort((a, b) => a.e.event.t - b.e.event.t || a.p - b.p || a.i - b.i);
  for (const x of all) {
    counters.events++;
    yield x.e;
  }
}
