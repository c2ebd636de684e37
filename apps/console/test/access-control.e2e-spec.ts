import jwt from 'jsonwebtoken';
import { Client, JWT_SECRET, Stack, token, until } from './harness';

/**
 * Every role against every endpoint, on its own objects and on another tenant's: 401 without a
 * valid session, 403 for a role that may not do it, 404 for an object outside the caller's scope.
 */
type Who = 'op' | 'police' | 'sup' | 'admin';
const WHO: Who[] = ['op', 'police', 'sup', 'admin'];
const ISS = 'eagle-eye-console';
const AUD = 'eagle-eye-console-users';

describe('console access control', () => {
  const stack = new Stack();
  const tok = {} as Record<Who, string>;
  let ids: { a: string; a2: string; b: string; b2: string };

  async function insertAlert(carrier: string, region: string, police: boolean): Promise<string> {
    const { rows } = await stack.db.pool.query<{ id: string }>(
      `WITH s AS (SELECT alert_next_seq() AS seq)
       INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, region, severity, score, reasons, event_time,
                           raised_at, police, created_seq, seq)
       SELECT 'victim_on_call', $1, $2, $3, $4, $5, 'warning', 70,
              '[{"rule":"fanout","points":30,"text":"called 90 different people"}]', now(), now(), $6, s.seq, s.seq FROM s
       RETURNING id::text`,
      [carrier, `call-${Math.random().toString(36).slice(2)}`, token(), token(), region, police],
    );
    return rows[0].id;
  }

  beforeAll(async () => {
    await stack.start({ worker: false });
    tok.op = await stack.login('operator.a', 'demo-operator-a');
    tok.police = await stack.login('officer.chengdu', 'demo-officer');
    tok.sup = await stack.login('supervisor', 'demo-supervisor');
    tok.admin = await stack.login('admin', 'demo-admin');
    ids = {
      a: await insertAlert('carrier-a', '510100', false), // carrier A only
      a2: await insertAlert('carrier-a', '510100', true), // carrier A, routed to Chengdu police
      b: await insertAlert('carrier-b', '510700', true), // carrier B, Mianyang police
      b2: await insertAlert('carrier-b', '510100', false), // carrier B, Chengdu region but not routed to police
    };
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  const readMatrix: [string, string, Record<Who, number>][] = [
    ['GET', '/api/auth/me', { op: 200, police: 200, sup: 200, admin: 200 }],
    ['GET', '/api/alerts', { op: 200, police: 200, sup: 200, admin: 200 }],
    ['GET', '/api/users', { op: 403, police: 403, sup: 403, admin: 200 }],
    ['GET', '/api/audit', { op: 403, police: 403, sup: 200, admin: 200 }],
    ['GET', '/api/admin/dead-letters', { op: 403, police: 403, sup: 200, admin: 200 }],
    ['GET', '/api/admin/backtests', { op: 403, police: 403, sup: 200, admin: 403 }],
    ['GET', '/api/rules', { op: 403, police: 403, sup: 200, admin: 200 }],
    ['GET', '/api/rules/precision', { op: 403, police: 403, sup: 200, admin: 200 }],
    ['GET', '/api/rules/fanout/versions', { op: 403, police: 403, sup: 200, admin: 200 }],
    ['GET', '/api/lists', { op: 200, police: 200, sup: 200, admin: 200 }],
    ['GET', '/api/lists?scope=carrier-b', { op: 403, police: 200, sup: 200, admin: 200 }],
    ['GET', '/api/lists/whitelist-candidates', { op: 200, police: 403, sup: 200, admin: 200 }],
    ['GET', '/api/intel/overview', { op: 403, police: 200, sup: 200, admin: 200 }],
    ['GET', '/api/reports', { op: 403, police: 403, sup: 200, admin: 200 }],
  ];

  it.each(readMatrix)('%s %s', async (method, path, expected) => {
    for (const who of WHO) {
      const res = await stack.api(tok[who], method, path);
      expect({ who, status: res.status }).toEqual({ who, status: expected[who] });
    }
    expect((await stack.api(null, method, path)).status).toBe(401);
  });

  it('shows each role only the alerts in its scope, in lists and one by one', async () => {
    const visible: Record<Who, string[]> = {
      op: [ids.a, ids.a2],
      police: [ids.a2],
      sup: [ids.a, ids.a2, ids.b, ids.b2],
      admin: [ids.a, ids.a2, ids.b, ids.b2],
    };
    for (const who of WHO) {
      const list = await stack.api(tok[who], 'GET', '/api/alerts?limit=200');
      expect((list.body.items as { id: string }[]).map((a) => a.id).sort()).toEqual([...visible[who]].sort());
      for (const id of Object.values(ids)) {
        const one = await stack.api(tok[who], 'GET', `/api/alerts/${id}`);
        expect({ who, id, status: one.status }).toEqual({
          who,
          id,
          status: visible[who].includes(id) ? 200 : 404,
        });
      }
    }
  });

  it("refuses every action on another tenant's alert as not found, and admins' actions as forbidden", async () => {
    const actions: [string, unknown][] = [
      ['claim', undefined],
      ['outcome', { outcome: 'dissuaded' }],
      ['notes', { text: 'called back' }],
      ['escalate', { reason: 'no answer' }],
    ];
    for (const [action, body] of actions) {
      expect((await stack.api(tok.op, 'POST', `/api/alerts/${ids.b}/${action}`, body)).status).toBe(404);
      const police = (await stack.api(tok.police, 'POST', `/api/alerts/${ids.b2}/${action}`, body)).status;
      expect({ action, police }).toEqual({ action, police: action === 'escalate' ? 403 : 404 });
      expect((await stack.api(tok.admin, 'POST', `/api/alerts/${ids.a}/${action}`, body)).status).toBe(403);
      expect((await stack.api(null, 'POST', `/api/alerts/${ids.a}/${action}`, body)).status).toBe(401);
    }
    const b = await stack.db.pool.query(`SELECT state, claimed_by FROM alerts WHERE id = $1`, [ids.b]);
    expect(b.rows[0]).toEqual({ state: 'open', claimed_by: null });
  });

  it('lets each role work the alerts in its scope: claim, note, outcome, escalate', async () => {
    const claim = await stack.api(tok.op, 'POST', `/api/alerts/${ids.a}/claim`);
    expect(claim.status).toBe(200);
    expect(claim.body).toMatchObject({ state: 'claimed', claimedBy: 'operator.a' });
    expect((await stack.api(tok.sup, 'POST', `/api/alerts/${ids.a}/claim`)).status).toBe(409);
    expect(
      (await stack.api(tok.op, 'POST', `/api/alerts/${ids.a}/notes`, { text: 'victim answered' })).status,
    ).toBe(201);
    const out = await stack.api(tok.op, 'POST', `/api/alerts/${ids.a}/outcome`, {
      outcome: 'false_positive',
    });
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ state: 'closed', outcome: 'false_positive' });
    expect((await stack.api(tok.op, 'GET', '/api/lists/whitelist-candidates')).body).toHaveLength(1);
    expect((await stack.api(tok.police, 'POST', `/api/alerts/${ids.a2}/claim`)).status).toBe(200);
    const fraud = await stack.api(tok.police, 'POST', `/api/alerts/${ids.a2}/outcome`, {
      outcome: 'confirmed_fraud',
    });
    expect(fraud.status).toBe(200);
    const suspect = (await stack.db.pool.query(`SELECT suspect FROM alerts WHERE id = $1`, [ids.a2])).rows[0]
      .suspect;
    const black = await stack.api(tok.sup, 'GET', '/api/lists?list=black');
    expect((black.body as { numberToken: string }[]).map((e) => e.numberToken)).toContain(suspect);
    const precision = await stack.api(tok.sup, 'GET', '/api/rules/precision');
    expect(precision.body).toEqual([
      expect.objectContaining({ rule: 'fanout', closed: 2, falsePositives: 1, confirmed: 1, precision: 0.5 }),
    ]);
    const esc = await stack.api(tok.sup, 'POST', `/api/alerts/${ids.b2}/escalate`, { reason: 'unreachable' });
    expect(esc.body).toMatchObject({ state: 'escalated', routedToPolice: true });
    expect((await stack.api(tok.police, 'GET', `/api/alerts/${ids.b2}`)).status).toBe(200); // now routed to Chengdu
  });

  it("keeps the carrier desk's claim and the police claim apart: neither locks the other out", async () => {
    const id = await insertAlert('carrier-a', '510100', true);
    const desk = await stack.api(tok.op, 'POST', `/api/alerts/${id}/claim`);
    expect(desk.body).toMatchObject({ state: 'claimed', claimedBy: 'operator.a', policeClaimedBy: null });
    const police = await stack.api(tok.police, 'POST', `/api/alerts/${id}/claim`);
    expect(police.status).toBe(200);
    expect(police.body).toMatchObject({
      state: 'claimed',
      claimedBy: 'operator.a',
      policeClaimedBy: 'officer.chengdu',
      policeClaimedAt: expect.any(String),
    });
    // each side's claim is still exclusive on its own side
    expect((await stack.api(tok.sup, 'POST', `/api/alerts/${id}/claim`)).status).toBe(409);
    const created = await stack.api(tok.admin, 'POST', '/api/users', {
      username: 'officer.second',
      password: 'second-officer-pass',
      role: 'police_officer',
      regions: ['510100'],
    });
    expect(created.status).toBe(201);
    const second = await stack.login('officer.second', 'second-officer-pass');
    const taken = await stack.api(second, 'POST', `/api/alerts/${id}/claim`);
    expect(taken.status).toBe(409);
    expect(String(taken.body.message)).toContain('officer.chengdu');
    // an officer without the police claim may not close it; the holder may
    expect(
      (await stack.api(second, 'POST', `/api/alerts/${id}/outcome`, { outcome: 'dissuaded' })).status,
    ).toBe(409);
    const closed = await stack.api(tok.police, 'POST', `/api/alerts/${id}/outcome`, { outcome: 'dissuaded' });
    expect(closed.body).toMatchObject({ state: 'closed', outcome: 'dissuaded', claimedBy: 'operator.a' });
    const detail = await stack.api(tok.sup, 'GET', `/api/alerts/${id}`);
    expect((detail.body.history as { action: string }[]).map((h) => h.action)).toEqual(
      expect.arrayContaining(['claimed', 'police_claimed', 'outcome']),
    );
  });

  it('writes lists and rules only for the roles allowed, through libs/rules', async () => {
    const entry = (list: string) => ({
      list,
      numberToken: token(),
      scope: '*',
      reason: 'reported by victims',
    });
    expect((await stack.api(tok.op, 'POST', '/api/lists', entry('black'))).status).toBe(403);
    expect((await stack.api(tok.police, 'POST', '/api/lists', entry('black'))).status).toBe(201);
    expect((await stack.api(tok.police, 'POST', '/api/lists', entry('white'))).status).toBe(403);
    expect((await stack.api(tok.sup, 'POST', '/api/lists', entry('white'))).status).toBe(201);
    expect(
      (await stack.api(tok.admin, 'POST', '/api/lists', { ...entry('black'), numberToken: '+8613812345678' }))
        .status,
    ).toBe(400);
    const change = { reportOnly: true, reason: 'tuning' };
    expect((await stack.api(tok.op, 'PATCH', '/api/rules/fanout', change)).status).toBe(403);
    expect((await stack.api(tok.police, 'PATCH', '/api/rules/fanout', change)).status).toBe(403);
    expect((await stack.api(tok.admin, 'PATCH', '/api/rules/fanout', change)).status).toBe(200);
    expect((await stack.api(tok.admin, 'PATCH', '/api/rules/fanout', { points: 5 })).status).toBe(400); // no reason
  });

  it('manages users only as admin, with clear 400s', async () => {
    const user = {
      username: 'op.new',
      password: 'long-enough-pw',
      role: 'carrier_operator',
      carrierId: 'carrier-b',
    };
    for (const who of ['op', 'police', 'sup'] as const) {
      expect((await stack.api(tok[who], 'POST', '/api/users', user)).status).toBe(403);
    }
    const bad = await stack.api(tok.admin, 'POST', '/api/users', { ...user, carrierId: undefined });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/carrier operator needs carrierId/);
    const created = await stack.api(tok.admin, 'POST', '/api/users', user);
    expect(created.status).toBe(201);
    const t = await stack.login('op.new', 'long-enough-pw');
    expect((await stack.api(t, 'GET', `/api/alerts/${ids.b}`)).status).toBe(200);
    expect(
      (await stack.api(tok.admin, 'PATCH', `/api/users/${created.body.id}`, { disabled: true })).status,
    ).toBe(200);
    expect((await stack.api(t, 'GET', '/api/alerts')).status).toBe(401); // disabled takes effect at once
  });

  it('answers bad input with 400 naming the field', async () => {
    expect((await stack.api(tok.op, 'GET', '/api/alerts/abc')).status).toBe(400);
    expect((await stack.api(tok.op, 'GET', '/api/alerts?limit=5000')).status).toBe(400);
    const o = await stack.api(tok.sup, 'POST', `/api/alerts/${ids.b}/outcome`, { outcome: 'maybe' });
    expect(o.status).toBe(400);
    expect(JSON.stringify(o.body)).toMatch(/outcome/);
    const n = await stack.api(tok.sup, 'POST', `/api/alerts/${ids.b}/notes`, {
      text: 'victim is 13812345678',
    });
    expect(n.status).toBe(400);
    expect(JSON.stringify(n.body)).toMatch(/must not contain phone numbers/);
    for (const text of [
      'call 138-1234-5678',
      'victim 138 1234 5678',
      'id13812345678',
      'ok 13812345678.',
      '１３８１２３４５６７８',
    ]) {
      const r = await stack.api(tok.sup, 'POST', `/api/alerts/${ids.b}/notes`, { text });
      expect({ text, status: r.status }).toEqual({ text, status: 400 });
    }
    const esc = await stack.api(tok.sup, 'POST', `/api/alerts/${ids.b}/escalate`, {
      reason: 'caller +86 138 1234 5678',
    });
    expect(esc.status).toBe(400);
    expect((await stack.api(null, 'POST', '/api/auth/login', { username: 'admin' })).status).toBe(400);
    expect(
      (await stack.api(null, 'POST', '/api/auth/login', { username: 'admin', password: 'wrong' })).status,
    ).toBe(401);
  });

  it('refuses forged, expired, foreign and unsigned tokens', async () => {
    const me = (await stack.api(tok.sup, 'GET', '/api/auth/me')).body as { userId: string };
    const claims = { username: 'supervisor', role: 'supervisor' };
    const opts = { subject: me.userId, issuer: ISS, audience: AUD, algorithm: 'HS256' as const };
    const bad: Record<string, string> = {
      forged: jwt.sign(claims, 'another-secret-another-secret-another-00', { ...opts, expiresIn: 600 }),
      expired: jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET, opts),
      wrongAudience: jwt.sign(claims, JWT_SECRET, { ...opts, audience: 'someone-else', expiresIn: 600 }),
      wrongIssuer: jwt.sign(claims, JWT_SECRET, { ...opts, issuer: 'someone-else', expiresIn: 600 }),
      unsigned: jwt.sign(claims, '', { ...opts, algorithm: 'none', expiresIn: 600 } as jwt.SignOptions),
      garbage: 'abc.def.ghi',
    };
    // a well-signed token is good only with a live server-side session (jti) and the current token version
    const session = jwt.decode(tok.sup) as jwt.JwtPayload;
    const good = jwt.sign({ ...claims, tv: session.tv }, JWT_SECRET, {
      ...opts,
      jwtid: session.jti,
      expiresIn: 600,
    });
    expect((await stack.api(good, 'GET', '/api/alerts')).status).toBe(200);
    Object.assign(bad, {
      noSession: jwt.sign(claims, JWT_SECRET, { ...opts, expiresIn: 600 }),
      unknownSession: jwt.sign({ ...claims, tv: session.tv }, JWT_SECRET, {
        ...opts,
        jwtid: 'AAAAAAAAAAAAAAAAAAAAAA',
        expiresIn: 600,
      }),
    });
    for (const [kind, t] of Object.entries(bad)) {
      const res = await stack.api(t, 'GET', '/api/alerts');
      expect({ kind, status: res.status }).toEqual({ kind, status: 401 });
    }
    const expired = await stack.api(bad.expired, 'GET', '/api/alerts');
    expect(expired.body.message).toBe('token expired');
  });

  it("closes every role's open socket at once when the user is disabled, re-scoped or signs out", async () => {
    const admin = tok.admin;
    const users: Record<Who, Record<string, unknown>> = {
      op: { role: 'carrier_operator', carrierId: 'carrier-a' },
      police: { role: 'police_officer', regions: ['510100'] },
      sup: { role: 'supervisor' },
      admin: { role: 'admin' },
    };
    const changes: [string, (id: string, t: string) => Promise<number>, string][] = [
      [
        'disabled',
        async (id) => (await stack.api(admin, 'PATCH', `/api/users/${id}`, { disabled: true })).status,
        'user disabled',
      ],
      [
        'password reset',
        async (id) =>
          (await stack.api(admin, 'PATCH', `/api/users/${id}`, { password: 'reset-by-admin-pw' })).status,
        'password reset',
      ],
      ['logout', async (_id, t) => (await stack.api(t, 'POST', '/api/auth/logout')).status, 'signed out'],
    ];
    for (const who of WHO) {
      for (const [change, apply, reason] of changes) {
        const username = `rev.${who}.${change.replace(' ', '-')}`;
        const created = await stack.api(admin, 'POST', '/api/users', {
          username,
          password: 'long-enough-pw',
          ...users[who],
        });
        expect(created.status).toBe(201);
        const t = await stack.login(username, 'long-enough-pw');
        const c = new Client(stack.url, t);
        await c.connected();
        expect([200, 204]).toContain(await apply(created.body.id as string, t));
        await until(() => c.disconnectReason, `${who} socket closed on ${change}`, 5000);
        expect({ who, change, ended: c.ended }).toEqual({ who, change, ended: [reason] });
        expect({ who, change, rest: (await stack.api(t, 'GET', '/api/auth/me')).status }).toEqual({
          who,
          change,
          rest: 401,
        });
        c.close();
      }
    }
  });

  it('refuses to escalate an alert another operator has claimed (409); a supervisor may, recorded', async () => {
    const id = await insertAlert('carrier-a', '510100', false);
    expect((await stack.api(tok.sup, 'POST', `/api/alerts/${id}/claim`)).status).toBe(200);
    const esc = await stack.api(tok.op, 'POST', `/api/alerts/${id}/escalate`, { reason: 'no answer' });
    expect(esc.status).toBe(409);
    const row = await stack.db.pool.query(`SELECT state, claimed_by FROM alerts WHERE id = $1`, [id]);
    expect(row.rows[0]).toEqual({ state: 'claimed', claimed_by: 'supervisor' });
    const id2 = await insertAlert('carrier-a', '510100', false);
    expect((await stack.api(tok.op, 'POST', `/api/alerts/${id2}/claim`)).status).toBe(200);
    const sup = await stack.api(tok.sup, 'POST', `/api/alerts/${id2}/escalate`, {
      reason: 'operator off shift',
    });
    expect(sup.status).toBe(200);
    const hist = await stack.db.pool.query(
      `SELECT detail FROM alert_history WHERE alert_id = $1 AND action = 'escalated'`,
      [id2],
    );
    expect(hist.rows[0].detail).toMatchObject({ droppedClaimOf: 'operator.a' });
  });

  it('sends security headers on the web UI and the API: CSP self, no framing, nosniff, no referrer, no X-Powered-By', async () => {
    // the built console's own files (hashed names, read from its index.html) and the API alike
    const index = await (await fetch(`${stack.url}/`)).text();
    const assets = [...index.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.filter((a) => /^\/assets\/.+\.js$/.test(a))).toHaveLength(1);
    for (const path of ['/', ...assets, '/ui-config.json', '/api/alerts', '/api/auth/me', '/no-such-page']) {
      const res = await fetch(`${stack.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect({ path, csp }).toEqual({ path, csp: expect.stringContaining("default-src 'self'") });
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    // the web UI runs under that CSP: no inline script, style or event handler
    const html = await (await fetch(`${stack.url}/`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('serves the OpenAPI document without a session', async () => {
    const doc = await stack.api(null, 'GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths as object)).toEqual(
      expect.arrayContaining([
        '/api/auth/login',
        '/api/alerts',
        '/api/alerts/{id}/claim',
        '/api/lists',
        '/api/rules',
      ]),
    );
    expect((await stack.api(null, 'GET', '/api/docs')).status).toBe(200);
  });

  it('writes every view and action to the audit log', async () => {
    const audit = await stack.api(tok.admin, 'GET', '/api/audit?limit=500');
    const actions = new Set((audit.body as { action: string }[]).map((e) => e.action));
    for (const a of [
      'auth.login',
      'alerts.list',
      'alert.view',
      'alert.view_denied',
      'alert.claim',
      'alert.outcome',
      'alert.note',
      'alert.escalate',
      'alert.claim_denied',
      'list.add',
      'rule.update',
      'user.create',
      'users.list',
    ]) {
      expect({ a, present: actions.has(a) }).toEqual({ a, present: true });
    }
    const claim = (audit.body as { action: string; actor: string; objectId: string }[]).find(
      (e) => e.action === 'alert.claim' && e.actor === 'operator.a' && e.objectId === ids.a,
    );
    expect(claim).toMatchObject({ actorRole: 'carrier_operator', carrierId: 'carrier-a', objectId: ids.a });
  });
});
