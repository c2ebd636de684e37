import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { VictimOnCallJob } from '@eagle-eye/contracts';
import { uniqueId } from '@eagle-eye/testing';

/** A pseudonym token as carriers send them (tests only). */
export const tok = (): string => `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;

/** A victim-on-call job of a new call, raised now unless `over` says otherwise (tests only). */
export function victimJob(over: Partial<VictimOnCallJob> = {}): VictimOnCallJob {
  const now = Date.now();
  return {
    kind: 'victim_on_call',
    carrierId: 'carrier-a',
    callId: uniqueId('c'),
    victim: tok(),
    suspect: tok(),
    region: '510100',
    severity: 'warning',
    score: 70,
    reasons: [{ rule: 'fanout', points: 30, text: 'called 90 different people', reportOnly: false }],
    callAnsweredAt: now - 60000,
    stepS: 60,
    eventTimeMs: now,
    raisedAt: now,
    ...over,
  };
}

/** The same job raised `ms` ago. */
export function victimJobRaisedAgo(ms: number, over: Partial<VictimOnCallJob> = {}): VictimOnCallJob {
  const at = Date.now() - ms;
  return victimJob({ raisedAt: at, eventTimeMs: at, callAnsweredAt: at - 60000, ...over });
}

/** Marks an alert claimed by an operator, as a console claim leaves it. */
export async function markClaimed(pool: Pool, alertId: string): Promise<void> {
  await pool.query(
    `UPDATE alerts SET state = 'claimed', claimed_by = 'op', claimed_at = now() WHERE id = $1`,
    [alertId],
  );
}
