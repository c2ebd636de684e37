import { randomBytes } from 'node:crypto';
import { seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { alertScopeSql } from '../auth/access-policy';
import { Principal } from '../auth/principal';
import { CaseTimelineRepository } from './case-timeline.repository';

const tok = (): string => `p1.t.${randomBytes(16).toString('base64url')}`;

/**
 * Case timelines on real PostgreSQL: the steps with the evidence kept at each, the suspect's other
 * alerted calls before and after, the victim's calls from other numbers; each reader sees only
 * alerts in its scope, the one asked for and the nearby ones alike.
 */
describe('case timeline repository, scoped', () => {
  let db: TestSchema;
  let repo: CaseTimelineRepository;
  const now = Date.now();
  const at = (min: number): Date => new Date(now + min * 60_000);
  const [S, S2, V, V2, V3, V4] = [tok(), tok(), tok(), tok(), tok(), tok()];
  const sup: Principal = {
    userId: '1',
    username: 'sup',
    role: 'supervisor',
    carrierId: null,
    regions: [],
    displayName: 's',
  };
  const operator = (carrierId: string): Principal => ({
    ...sup,
    username: `op-${carrierId}`,
    role: 'carrier_operator',
    carrierId,
  });
  const police = (regions: string[]): Principal => ({
    ...sup,
    username: 'pol',
    role: 'police_officer',
    regions,
  });
  const scoped = (p: Principal) => (params: unknown[], alias: string) => alertScopeSql(p, params, alias);
  let main = '';
  let before = '';
  let after = '';
  let old = '';
  let ring = '';

  const insert = async (a: {
    carrier: string;
    suspect: string;
    victim: string;
    region: string;
    police: boolean;
    answered: Date;
    reasons: { rule: string; points: number; text: string }[];
  }): Promise<string> => {
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, region, severity, score, reasons,
                           call_answered_at, event_time, raised_at, police, created_seq, seq)
       VALUES ('victim_on_call', $1, $2, $3, $4, $5, 'warning', 60, $6, $7::timestamptz, $7::timestamptz,
               $7::timestamptz + interval '2 minutes', $8,
               nextval('alert_change_seq'), nextval('alert_change_seq'))
       RETURNING id`,
      [
        a.carrier,
        `c-${randomBytes(4).toString('hex')}`,
        a.victim,
        a.suspect,
        a.region,
        JSON.stringify(a.reasons),
        a.answered,
        a.police,
      ],
    );
    return rows[0].id;
  };
  const step = async (
    alertId: string,
    action: 'created' | 'upgraded',
    when: Date,
    stepS: number,
    score: number,
    reasons: { rule: string; points: number; text: string }[],
  ): Promise<void> => {
    const { rows } = await db.pool.query<{ seq: string }>(`SELECT nextval('alert_change_seq') AS seq`);
    const seq = rows[0].seq;
    await db.pool.query(
      `INSERT INTO alert_history (seq, alert_id, at, actor, action, detail) VALUES ($1, $2, $3, 'detector', $4, $5)`,
      [seq, alertId, when, action, JSON.stringify({ score, stepS })],
    );
    await db.pool.query(
      `INSERT INTO alert_evidence (alert_id, seq, action, event_time, raised_at, step_s, severity, score, reasons,
                                   call_answered_at)
       VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)`,
      [
        alertId,
        seq,
        action,
        when,
        stepS,
        score >= 100 ? 'critical' : 'warning',
        score,
        JSON.stringify(reasons),
        at(0),
      ],
    );
  };

  beforeAll(async () => {
    db = await createTestSchema();
    await seedDemo(db.pool);
    repo = new CaseTimelineRepository(db.pool);
    const fan = (n: number) => ({
      rule: 'fanout',
      points: 30,
      text: `called ${n} different people in the last hour`,
    });
    const long = {
      rule: 'long_call',
      points: 50,
      text: 'on the phone with a suspect stranger for over 10 min',
    };
    // the case: S on the line with V in Chengdu, routed to police, detected in two steps
    main = await insert({
      carrier: 'carrier-a',
      suspect: S,
      victim: V,
      region: '510100',
      police: true,
      answered: at(0),
      reasons: [fan(55), long],
    });
    await step(main, 'created', at(2), 120, 60, [fan(41)]);
    await step(main, 'upgraded', at(10), 600, 110, [fan(55), long]);
    // S's other calls: one before (carrier-a, police), one after (carrier-b, not police), one old
    before = await insert({
      carrier: 'carrier-a',
      suspect: S,
      victim: V2,
      region: '510100',
      police: true,
      answered: at(-120),
      reasons: [fan(30)],
    });
    after = await insert({
      carrier: 'carrier-b',
      suspect: S,
      victim: V3,
      region: '510700',
      police: false,
      answered: at(60),
      reasons: [fan(60)],
    });
    old = await insert({
      carrier: 'carrier-a',
      suspect: S,
      victim: V4,
      region: '510100',
      police: true,
      answered: at(-48 * 60),
      reasons: [fan(20)],
    });
    // another number of the ring on V twenty minutes earlier (a hand-over)
    ring = await insert({
      carrier: 'carrier-a',
      suspect: S2,
      victim: V,
      region: '510100',
      police: false,
      answered: at(-20),
      reasons: [{ rule: 'ring_relay', points: 35, text: 'ring' }],
    });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('gives a supervisor the steps with their evidence, the suspect’s calls around it and the victim’s', async () => {
    const t = await repo.timeline(main, scoped(sup), 24);
    expect(t).not.toBeNull();
    expect(t!.alert).toMatchObject({ id: main, suspect: S, victim: V, region: '510100' });
    expect(t!.steps.map((s) => [s.action, s.evidence?.stepS, s.evidence?.score])).toEqual([
      ['created', 120, 60],
      ['upgraded', 600, 110],
    ]);
    // each step keeps its own reasons, not the alert row's latest
    expect(t!.steps[0].evidence!.reasons.map((r) => r.text)).toEqual([
      'called 41 different people in the last hour',
    ]);
    expect(t!.steps[1].evidence!.severity).toBe('critical');
    expect(t!.suspectCalls.map((c) => [c.alertId, c.relation])).toEqual([
      [before, 'before'],
      [after, 'after'],
    ]);
    expect(t!.victimCalls.map((c) => [c.alertId, c.suspect, c.relation])).toEqual([[ring, S2, 'before']]);
    expect(t!.windowHours).toBe(24);
  });

  it('widens the window on request', async () => {
    const t = await repo.timeline(main, scoped(sup), 72);
    expect(t!.suspectCalls.map((c) => c.alertId)).toEqual([old, before, after]);
  });

  it('limits a carrier operator to its carrier, the case and the nearby calls alike', async () => {
    const a = await repo.timeline(main, scoped(operator('carrier-a')), 24);
    expect(a!.suspectCalls.map((c) => c.alertId)).toEqual([before]);
    expect(a!.victimCalls.map((c) => c.alertId)).toEqual([ring]);
    expect(await repo.timeline(main, scoped(operator('carrier-b')), 24)).toBeNull();
    const b = await repo.timeline(after, scoped(operator('carrier-b')), 24);
    expect(b!.suspectCalls).toEqual([]); // carrier-a's calls of the same suspect stay hidden
    expect(b!.steps.every((s) => s.evidence === null)).toBe(true); // no snapshot kept for it
  });

  it('limits police to alerts routed to police in their regions', async () => {
    const p = await repo.timeline(main, scoped(police(['510100'])), 24);
    expect(p!.suspectCalls.map((c) => c.alertId)).toEqual([before]);
    expect(p!.victimCalls).toEqual([]); // the ring's call was not routed to police
    expect(await repo.timeline(main, scoped(police(['510700'])), 24)).toBeNull();
    expect(await repo.timeline(ring, scoped(police(['510100'])), 24)).toBeNull();
  });

  it('finds nothing for an alert that does not exist', async () => {
    expect(await repo.timeline('999999999', scoped(sup), 24)).toBeNull();
  });
});
