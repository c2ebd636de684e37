import { randomBytes } from 'node:crypto';
import { seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { Principal } from '../auth/principal';
import { IntelRepository } from './intel.repository';

const tok = (): string => `p1.t.${randomBytes(16).toString('base64url')}`;
const TZ = 'Asia/Shanghai';

/**
 * Intel reads on real PostgreSQL: every figure checked against the rows put in, and each reader
 * sees only what its scope holds (police: alerts routed to police in its regions; a carrier
 * operator: its carrier's).
 */
describe('intel repository: situation and number lookup, scoped', () => {
  let db: TestSchema;
  let repo: IntelRepository;
  const now = new Date();
  const ago = (min: number): Date => new Date(now.getTime() - min * 60_000);
  const [S1, S2, V1, V2, V3] = [tok(), tok(), tok(), tok(), tok()];
  const sup: Principal = {
    userId: '1',
    username: 'sup',
    role: 'supervisor',
    carrierId: null,
    regions: [],
    displayName: 's',
  };
  const police = (regions: string[]): Principal => ({
    ...sup,
    username: 'pol',
    role: 'police_officer',
    regions,
  });
  const operatorB: Principal = { ...sup, username: 'opb', role: 'carrier_operator', carrierId: 'carrier-b' };

  const insert = async (a: {
    kind: string;
    carrier: string;
    suspect: string;
    victim?: string;
    region: string;
    severity: string;
    police: boolean;
    at: Date;
    outcome?: string;
    reasons: { rule: string; points: number; text: string }[];
  }): Promise<void> => {
    await db.pool.query(
      `INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, region, severity, score, reasons,
                           event_time, raised_at, police, outcome, state, created_seq, seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 70, $8, $9, $9, $10, $11, $12, nextval('alert_change_seq'), nextval('alert_change_seq'))`,
      [
        a.kind,
        a.carrier,
        a.victim ? `c-${randomBytes(4).toString('hex')}` : null,
        a.victim ?? null,
        a.suspect,
        a.region,
        a.severity,
        JSON.stringify(a.reasons),
        a.at,
        a.police,
        a.outcome ?? null,
        a.outcome ? 'closed' : 'open',
      ],
    );
  };

  beforeAll(async () => {
    db = await createTestSchema();
    await seedDemo(db.pool);
    repo = new IntelRepository(db.pool);
    const fan = { rule: 'fanout', points: 30, text: 'called 40 different people in the last hour' };
    const model = { rule: 'caller_model', points: 55, text: 'model m: 97.1 % likely a fraud caller' };
    // S1: a police-routed critical in Chengdu (confirmed), a carrier-b post-call in Mianyang (false
    // positive), a suspect-number report, and one three days old
    await insert({
      kind: 'victim_on_call',
      carrier: 'carrier-a',
      suspect: S1,
      victim: V1,
      region: '510100',
      severity: 'critical',
      police: true,
      at: ago(30),
      outcome: 'confirmed_fraud',
      reasons: [fan, model],
    });
    await insert({
      kind: 'post_call',
      carrier: 'carrier-b',
      suspect: S1,
      victim: V2,
      region: '510700',
      severity: 'warning',
      police: false,
      at: ago(120),
      outcome: 'false_positive',
      reasons: [fan],
    });
    await insert({
      kind: 'suspect_number',
      carrier: 'carrier-a',
      suspect: S1,
      region: '510100',
      severity: 'warning',
      police: true,
      at: ago(10),
      reasons: [
        { rule: 'call_centre', points: 25, text: 'call-centre pattern' },
        { rule: 'familiar', points: -60, text: 'known' },
      ],
    });
    await insert({
      kind: 'victim_on_call',
      carrier: 'carrier-a',
      suspect: S1,
      victim: V3,
      region: '510100',
      severity: 'warning',
      police: false,
      at: ago(3 * 1440),
      outcome: 'dissuaded',
      reasons: [fan],
    });
    // S2 reached the same victim as S1 within the hour: a likely ring
    await insert({
      kind: 'victim_on_call',
      carrier: 'carrier-a',
      suspect: S2,
      victim: V1,
      region: '510100',
      severity: 'warning',
      police: true,
      at: ago(40),
      reasons: [{ rule: 'ring_relay', points: 35, text: 'ring' }],
    });
    await db.pool.query(
      `INSERT INTO number_lists (list, number_token, scope, reason, added_by, added_at, removed_by, removed_at)
       VALUES ('gray', $1, '*', 'reported', 'sup', now() - interval '2 days', 'sup', now() - interval '1 day'),
              ('black', $1, 'carrier-a', 'confirmed fraud', 'opa', now(), NULL, NULL)`,
      [S1],
    );
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('gives a supervisor the last day by kind, severity, outcome, region, rule and hour', async () => {
    const o = await repo.overview(sup, ago(1440), new Date(now.getTime() + 1000), TZ);
    const sql = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM alerts WHERE raised_at >= $1 AND raised_at < $2`,
      [ago(1440), new Date(now.getTime() + 1000)],
    );
    expect(o.alerts).toBe(Number(sql.rows[0].n));
    expect(o.alerts).toBe(4);
    expect(o.byKind).toEqual({ victim_on_call: 2, post_call: 1, suspect_number: 1 });
    expect(o.bySeverity).toEqual({ warning: 3, critical: 1 });
    expect(o.outcomes).toEqual({
      dissuaded: 0,
      victim_unreachable: 0,
      false_positive: 1,
      confirmed_fraud: 1,
    });
    expect(o.open).toBe(2);
    expect(o.byRegion).toEqual([
      { region: '510100', alerts: 3, critical: 1, victims: 1, confirmed: 1 },
      { region: '510700', alerts: 1, critical: 0, victims: 1, confirmed: 0 },
    ]);
    // rules that gave points only (familiar's -60 is not why anything fired)
    expect(o.byRule).toEqual([
      { rule: 'fanout', alerts: 2, trueAlerts: 1, falsePositives: 1, precision: 0.5 },
      { rule: 'call_centre', alerts: 1, trueAlerts: 0, falsePositives: 0, precision: null },
      { rule: 'caller_model', alerts: 1, trueAlerts: 1, falsePositives: 0, precision: 1 },
      { rule: 'ring_relay', alerts: 1, trueAlerts: 0, falsePositives: 0, precision: null },
    ]);
    expect(o.byHour.reduce((n, h) => n + h.alerts, 0)).toBe(4);
    expect(o.byHour.every((h) => /^\d{4}-\d{2}-\d{2}T\d{2}:00$/.test(h.hour))).toBe(true);
  });

  it('gives each rule its precision per day, in the deployment zone, matching the rows', async () => {
    const from = ago(7 * 1440);
    const to = new Date(now.getTime() + 1000);
    const o = await repo.overview(sup, from, to, TZ);
    const sql = await db.pool.query<{ day: string; rule: string; n: string; t: string; f: string }>(
      `SELECT to_char(a.raised_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, r->>'rule' AS rule, count(*) AS n,
              count(*) FILTER (WHERE a.outcome IN ('confirmed_fraud', 'dissuaded')) AS t,
              count(*) FILTER (WHERE a.outcome = 'false_positive') AS f
         FROM alerts a, jsonb_array_elements(a.reasons) r
        WHERE a.raised_at >= $1 AND a.raised_at < $2 AND (r->>'points')::float8 > 0
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [from, to, TZ],
    );
    expect(o.byRuleDay.map((d) => [d.day, d.rule, d.alerts, d.trueAlerts, d.falsePositives])).toEqual(
      sql.rows.map((r) => [r.day, r.rule, Number(r.n), Number(r.t), Number(r.f)]),
    );
    // the three-day-old dissuaded alert is a day of its own: fanout right that day
    const old = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(ago(3 * 1440));
    expect(o.byRuleDay.find((d) => d.day === old && d.rule === 'fanout')).toMatchObject({
      alerts: 1,
      trueAlerts: 1,
      precision: 1,
    });
    // per day adds up to the whole window
    const fanout = o.byRuleDay.filter((d) => d.rule === 'fanout');
    expect(fanout.reduce((n, d) => n + d.alerts, 0)).toBe(o.byRule.find((r) => r.rule === 'fanout')!.alerts);
  });

  it('limits police to what was routed to them in their regions', async () => {
    const o = await repo.overview(police(['510100']), ago(1440), new Date(now.getTime() + 1000), TZ);
    expect(o.alerts).toBe(3);
    expect(o.byRegion.map((r) => r.region)).toEqual(['510100']);
    expect(
      (await repo.overview(police(['510700']), ago(1440), new Date(now.getTime() + 1000), TZ)).alerts,
    ).toBe(0);
  });

  it('looks a number up: reach, regions, outcomes, lists, linked numbers, latest reasons', async () => {
    const n = (await repo.number(sup, S1, now, TZ))!;
    expect(n.alerts).toBe(4);
    expect(n.byKind).toEqual({ victim_on_call: 2, post_call: 1, suspect_number: 1 });
    expect(n.outcomes).toEqual({
      dissuaded: 1,
      victim_unreachable: 0,
      false_positive: 1,
      confirmed_fraud: 1,
    });
    expect(n.victims).toEqual({ h1: 1, h24: 2, d7: 3 });
    expect(n.regions).toEqual([
      { region: '510100', alerts: 3 },
      { region: '510700', alerts: 1 },
    ]);
    expect(n.byHourOfDay.reduce((a, b) => a + b, 0)).toBe(4);
    expect(n.linked).toEqual([{ token: S2, sharedVictims: 1, alerts: 1 }]);
    expect(n.latest?.reasons.map((r) => r.rule)).toEqual(['call_centre', 'familiar']);
    expect(n.lists.map((l) => [l.list, l.scope, !!l.removedAt])).toEqual([
      ['black', 'carrier-a', false],
      ['gray', '*', true],
    ]);
  });

  it("shows a carrier operator only its carrier's alerts and lists, and police nothing outside their scope", async () => {
    const b = (await repo.number(operatorB, S1, now, TZ))!;
    expect(b.alerts).toBe(1);
    expect(b.regions).toEqual([{ region: '510700', alerts: 1 }]);
    expect(b.linked).toEqual([]);
    expect(b.lists.map((l) => l.scope)).toEqual(['*']);
    expect(await repo.number(police(['510700']), S1, now, TZ)).toBeNull();
    const p = (await repo.number(police(['510100']), S1, now, TZ))!;
    expect(p.alerts).toBe(2);
    expect(p.linked).toEqual([{ token: S2, sharedVictims: 1, alerts: 1 }]);
    expect(await repo.number(sup, tok(), now, TZ)).toBeNull();
  });
});
