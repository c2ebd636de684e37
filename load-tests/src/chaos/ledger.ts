import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { ALERTS_DEAD_LETTER_QUEUE, alertJobItems, ingestV1, QueueName } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { CallerState, LONG_CALL_S } from '@eagle-eye/scoring';
import type { SentEvent } from './carrier';
import type { ConsoleLedger } from './console-ledger';

const { CallEventType } = ingestV1;

/**
 * The end-of-run checker. Every number in the chaos traffic makes exactly one call (fresh pairs and
 * fresh probe numbers), so the caller's detector windows (the script's hash, or the detector's
 * string with DETECTOR_CALLER_WINDOWS=node: its replay guards and 7-day sums) say exactly which of
 * its events were applied and how many times:
 * - the replay guard `c<call>` holds a bit per event type applied (1 attempt, 2 answered, 4 ended);
 * - the day buckets `Y<day>` count attempts, answered calls and ended calls with talk time, so an
 *   event applied twice shows as a 2.
 * An acknowledged event whose bit is missing is lost; a counter above one is a double count.
 */
export interface LedgerResult {
  eventsAcked: number;
  eventsLost: number;
  eventsDoubleCounted: number;
  /** sent, never acknowledged (allowed either way), and of those the ones that did arrive */
  eventsUnacked: number;
  /**
   * acknowledged events older than their caller's newest earlier event by more than the detector's
   * lateness: the README says the detector drops them (allowed either way, not counted as lost)
   */
  eventsLate: number;
  alertsExpected: number;
  /** expected alerts with a row in PostgreSQL */
  alertsPersisted: number;
  /** expected alerts that reached the console (`alert.created` or `alert.updated`) */
  alertsDelivered: number;
  /**
   * of those, alerts whose `alert.created` never came, only `alert.updated` (a worker killed between
   * commit and publish republishes the new alert as an update on retry): a client that upserts on
   * both events, as the README asks, has it
   */
  alertsCreatedAsUpdate: number;
  /** extra rows for one call, or `alert.created` of one alert with two different seqs */
  alertsDuplicated: number;
  /** the same change received twice around a reconnect (the contract allows it; clients drop it) */
  changesRedelivered: number;
  /** alerts whose latest change (PostgreSQL seq) never reached the console */
  changesMissed: number;
  alertJobsStuck: number;
  alertJobsDeadLettered: number;
  /** broken promises, in words */
  violations: string[];
}

interface Applied {
  mask: number;
  attempts: number;
  answered: number;
  endedWithTalk: number;
}

/**
 * Reads the caller windows of every number in `events` (one call per number): the caller script's
 * windows hash, or the detector's windows string (DETECTOR_CALLER_WINDOWS=node) where there is one.
 */
async function appliedByCaller(
  redis: Redis,
  keys: RedisKeys,
  callers: string[],
  latenessMs: number,
): Promise<Map<string, Applied>> {
  const out = new Map<string, Applied>();
  for (let i = 0; i < callers.length; i += 500) {
    const chunk = callers.slice(i, i + 500);
    const p = redis.pipeline();
    for (const c of chunk) {
      p.hgetallBuffer(keys.numWindows(c));
      p.getBuffer(keys.numState(c));
    }
    const res = (await p.exec()) ?? [];
    chunk.forEach((caller, j) => {
      const [err, h] = res[2 * j];
      const [err2, blob] = res[2 * j + 1];
      if (err || err2) throw err ?? err2;
      const a: Applied = { mask: 0, attempts: 0, answered: 0, endedWithTalk: 0 };
      if (blob) {
        const s = CallerState.decode(blob as Buffer, { latenessMs, longCallS: LONG_CALL_S });
        for (const g of s.guards.values()) a.mask |= g.mask;
        const w = s.read(s.wm);
        a.attempts = w.attempts7d;
        a.answered = w.answered7d;
        a.endedWithTalk = w.ended7d;
      } else {
        for (const [field, v] of Object.entries(h as Record<string, Buffer>)) {
          if (field.startsWith('c')) a.mask |= Number(v.toString().split(':')[0]);
          else if (/^Y\d+$/.test(field) && v.length >= 14) {
            // '<HHHHIHHH': attempts, answered, new distinct, new ever, talk s, ended with talk, ...
            a.attempts += v.readUInt16LE(0);
            a.answered += v.readUInt16LE(2);
            a.endedWithTalk += v.readUInt16LE(12);
          }
        }
      }
      out.set(caller, a);
    });
  }
  return out;
}

const BIT: Record<number, number> = {
  [CallEventType.CALL_ATTEMPT]: 1,
  [CallEventType.CALL_ANSWERED]: 2,
  [CallEventType.CALL_ENDED]: 4,
};

export async function checkLedger(o: {
  redis: Redis;
  pool: Pool;
  prefix: string;
  acked: SentEvent[];
  unacked: SentEvent[];
  /** scam calls: each whose ANSWERED event (`<callId>.n`) was acknowledged in time must raise one alert */
  probeCalls: string[];
  /** DETECTOR_LATENESS_MS of the stack */
  latenessMs: number;
  console: ConsoleLedger;
}): Promise<LedgerResult> {
  const keys = new RedisKeys(o.prefix);
  const v: string[] = [];
  const acked = new Map<string, SentEvent>();
  for (const e of o.acked) acked.set(e.id, e);
  const unacked = o.unacked.filter((e) => !acked.has(e.id));
  const callers = [...new Set([...acked.values()].map((e) => e.caller))];
  const applied = await appliedByCaller(o.redis, keys, callers, o.latenessMs);
  let lost = 0;
  let double = 0;
  // acknowledgement order is hand-off order (one stream): the caller's watermark as the detector saw it
  const watermark = new Map<string, number>();
  const late = new Set<string>();
  const want = new Map<string, number>();
  for (const e of acked.values()) {
    const wm = watermark.get(e.caller) ?? -Infinity;
    if (e.t < wm - o.latenessMs) late.add(e.id);
    else want.set(e.caller, (want.get(e.caller) ?? 0) | BIT[e.type]);
    watermark.set(e.caller, Math.max(wm, e.t));
  }
  const expectedAlertCalls = o.probeCalls.filter((c) => acked.has(`${c}.n`) && !late.has(`${c}.n`));
  for (const [caller, mask] of want) {
    const a = applied.get(caller) as Applied;
    for (const bit of [1, 2, 4]) if (mask & bit && !(a.mask & bit)) lost++;
    double += Math.max(0, a.attempts - 1) + Math.max(0, a.answered - 1) + Math.max(0, a.endedWithTalk - 1);
  }
  if (lost) v.push(`${lost} acknowledged events never reached the detector`);
  if (double) v.push(`${double} events counted twice by the detector`);

  const { rows } = await o.pool.query<{ id: string; call_id: string | null; seq: string; kind: string }>(
    'SELECT id::text, call_id, seq::text, kind FROM alerts',
  );
  const byCall = new Map<string, { id: string; seq: number }[]>();
  for (const r of rows) {
    if (!r.call_id || r.kind === 'suspect_number') continue;
    const l = byCall.get(r.call_id) ?? [];
    l.push({ id: r.id, seq: Number(r.seq) });
    byCall.set(r.call_id, l);
  }
  let persisted = 0;
  const missing: string[] = [];
  let delivered = 0;
  let createdAsUpdate = 0;
  let duplicated = 0;
  for (const callId of expectedAlertCalls) {
    const l = byCall.get(callId) ?? [];
    if (l.length) persisted++;
    else missing.push(callId);
    duplicated += Math.max(0, l.length - 1);
    const seen = l.map((a) => o.console.alerts.get(a.id)).filter((a) => a !== undefined);
    if (seen.length) delivered++;
    if (seen.length && seen.every((a) => a.created.length === 0)) createdAsUpdate++;
  }
  let redelivered = 0;
  let missed = 0;
  for (const r of rows) {
    const seen = o.console.alerts.get(r.id);
    const distinct = new Set(seen?.created ?? []);
    duplicated += Math.max(0, distinct.size - 1);
    redelivered += (seen?.created.length ?? 0) - distinct.size;
    if (!seen || seen.maxSeq < Number(r.seq)) missed++;
  }
  const expected = expectedAlertCalls.length;
  if (persisted < expected)
    v.push(
      `${expected - persisted} expected alerts missing in PostgreSQL (calls ${missing.slice(0, 5).join(', ')})`,
    );
  if (delivered < expected) v.push(`${expected - delivered} expected alerts never reached the console`);
  if (duplicated) v.push(`${duplicated} duplicated alerts`);
  if (missed) v.push(`${missed} alerts whose latest change never reached the console (a gap in seq)`);

  const { stuck, dead, deadReasons } = await alertJobs(o.redis, keys);
  if (stuck) v.push(`${stuck} alert jobs neither completed nor dead-lettered`);
  if (dead) v.push(`${dead} alert jobs dead-lettered: ${deadReasons.join('; ')}`);
  return {
    eventsAcked: acked.size,
    eventsLost: lost,
    eventsDoubleCounted: double,
    eventsUnacked: unacked.length,
    eventsLate: late.size,
    alertsExpected: expected,
    alertsPersisted: persisted,
    alertsDelivered: delivered,
    alertsCreatedAsUpdate: createdAsUpdate,
    alertsDuplicated: duplicated,
    changesRedelivered: redelivered,
    changesMissed: missed,
    alertJobsStuck: stuck,
    alertJobsDeadLettered: dead,
    violations: v,
  };
}

/**
 * Alert jobs still waiting, running or waiting for a retry (escalation timers excepted), and those
 * that exhausted their attempts (a failed job has no attempt left: it is in the dead-letter queue).
 */
export async function alertJobs(
  redis: Redis,
  keys: RedisKeys,
): Promise<{ stuck: number; dead: number; deadReasons: string[] }> {
  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  const q = new Queue(QueueName.Alerts, { connection, prefix: keys.bullPrefix() });
  const dl = new Queue(ALERTS_DEAD_LETTER_QUEUE, { connection, prefix: keys.bullPrefix() });
  try {
    const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
    // alert jobs, a round's batch counted by the alerts it carries (the worker's timers are not)
    const stuck = jobs.reduce((n, j) => n + (j ? alertJobItems(j).length : 0), 0);
    const dead = (await dl.getJobCounts('waiting')).waiting ?? 0;
    const reasons = new Map<string, number>();
    for (const j of dead ? await dl.getJobs(['waiting'], 0, 999) : []) {
      const d = j?.data as { name?: string; failedReason?: string; attemptsMade?: number } | undefined;
      const k = `${d?.name} after ${d?.attemptsMade} attempts: ${String(d?.failedReason).slice(0, 160)}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    return { stuck, dead, deadReasons: [...reasons].map(([k, n]) => `${n} x ${k}`) };
  } finally {
    await q.close();
    await dl.close();
    connection.disconnect();
  }
}
