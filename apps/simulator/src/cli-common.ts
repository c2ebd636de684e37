import { apiKeyFor, DEMO_CARRIERS } from '@eagle-eye/db';
import { IngestStream, IngestStreamOptions } from './stream/ingest-client';
import { RunProgress } from './stream/runner';

/** Parses a number option, failing with the option's name. */
export function numberOption(name: string, value: string | undefined, def: number, min = 0): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min)
    throw new Error(`--${name} must be a number >= ${min} (got "${value}")`);
  return n;
}

/**
 * Carrier credentials: `carrier-a=eek_...,carrier-b=eek_...` (SIMULATOR_CARRIER_KEYS), or the demo
 * carriers' public keys when none are given.
 */
export function carrierKeys(spec: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (spec) {
    for (const part of spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^([a-z0-9][a-z0-9-]{1,31})=(eek_\S+)$/.exec(part);
      if (!m) throw new Error('carrier keys must look like carrier-a=eek_<keyId>_<secret>,carrier-b=...');
      out.set(m[1], m[2]);
    }
  } else for (const c of DEMO_CARRIERS) out.set(c.id, apiKeyFor(c.keyId, c.secret));
  return out;
}

export function openStreams(
  address: string,
  keys: Map<string, string>,
  extra: Partial<IngestStreamOptions> | ((carrierId: string) => Partial<IngestStreamOptions>) = {},
): Map<string, IngestStream> {
  const m = new Map<string, IngestStream>();
  for (const [carrierId, apiKey] of keys)
    m.set(
      carrierId,
      new IngestStream({
        address,
        carrierId,
        apiKey,
        ...(typeof extra === 'function' ? extra(carrierId) : extra),
      }),
    );
  return m;
}

export function progressLine(p: RunProgress, alerts?: number | string): string {
  const sim = Number.isFinite(p.simMs) ? new Date(p.simMs).toISOString().slice(11, 19) : '-';
  return (
    `[simulator] t+${(p.elapsedMs / 1000).toFixed(0)}s sim ${sim}Z  ${p.eventsPerSecond.toFixed(0)} events/s  ` +
    `sent ${p.eventsSent} acked ${p.acked} rejected ${p.rejected}  unacked batches ${p.unackedBatches}  ` +
    `lag ${p.lagS.toFixed(1)}s  ack ${p.ackLatencyMs} ms` +
    (alerts !== undefined ? `  alerts ${alerts}` : '') +
    (p.reconnects ? `  reconnects ${p.reconnects}` : '')
  );
}
