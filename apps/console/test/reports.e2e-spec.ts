import { RedisKeys } from '@eagle-eye/redis';
import { Stack, token } from './harness';

/**
 * Partner reports over HTTP, console as built: the partner's own key, clear numbers refused, one
 * report per reporter, graylisting by distinct reporters (mirrored to Redis for the detector), the
 * supervisor's review, the per-key rate, and the audit of every review.
 */
describe('number reports from partner apps', () => {
  const stack = new Stack();
  let admin: string;
  let sup: string;
  beforeAll(async () => {
    await stack.start({ worker: false, consoleEnv: { REPORTS_PER_PARTNER_PER_MINUTE: '12' } });
    [admin, sup] = await Promise.all([
      stack.login('admin', 'demo-admin'),
      stack.login('supervisor', 'demo-supervisor'),
    ]);
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  const partner = async (id: string): Promise<string> => {
    const r = await stack.api(admin, 'POST', '/api/report-partners', { id, name: `${id} app` });
    expect(r.status).toBe(201);
    expect(r.body.apiKey).toMatch(/^erk_[A-Za-z0-9]+_\S+$/);
    return r.body.apiKey as string;
  };
  const send = async (key: string | null, body: unknown) => {
    const res = await fetch(`${stack.url}/api/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON in tests
      body: (await res.json()) as any,
    };
  };

  it('graylists a number once enough people report it, and a supervisor confirms it onto the blacklist', async () => {
    const key = await partner('antifraud-app');
    const op = await stack.login('operator.a', 'demo-operator-a');
    expect((await stack.api(op, 'POST', '/api/report-partners', { id: 'x-app', name: 'x' })).status).toBe(
      403,
    );
    const n = token();
    const report = (reporter: string, extra = {}) =>
      send(key, {
        reporter,
        number: n,
        category: 'impersonation_police',
        evidence: 'said he was a police officer',
        ...extra,
      });

    // refused before anything is stored: no key, a wrong key, a clear number, a number in the evidence
    expect((await send(null, {})).status).toBe(401);
    expect((await send('erk_nokey_secret', {})).status).toBe(401);
    const clear = await send(key, { reporter: 'u1', number: '13812345678', category: 'other' });
    expect(clear.status).toBe(400);
    expect(JSON.stringify(clear.body)).toContain('never the number itself');
    expect(JSON.stringify(clear.body)).not.toContain('13812345678');
    expect((await report('u1', { evidence: 'he called from 138 1234 5678' })).status).toBe(400);

    expect((await report('u1')).body).toMatchObject({ duplicate: false, reporters: 1, graylisted: false });
    expect((await report('u1')).body).toMatchObject({ duplicate: true, reporters: 1, graylisted: false });
    expect((await report('u2')).body).toMatchObject({ reporters: 2, graylisted: false });
    const third = await report('u3', { region: '510100' });
    expect(third.status).toBe(201);
    expect(third.body).toMatchObject({ reporters: 3, graylisted: true });
    const lists = await stack.api(sup, 'GET', `/api/lists?scope=*&list=gray`);
    const gray = (lists.body as { numberToken: string; expiresAt: string; addedBy: string }[]).find(
      (e) => e.numberToken === n,
    );
    expect(gray).toMatchObject({ addedBy: 'reports:antifraud-app' });
    expect(new Date(gray!.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86400_000);
    // the detector reads its lists from the Redis mirror
    expect(await stack.redis.hget(new RedisKeys(stack.prefix).numLists(n), '*')).toMatch(/^gray\|/);

    const queue = await stack.api(sup, 'GET', '/api/reports');
    expect(queue.status).toBe(200);
    expect(queue.body.items).toEqual([
      expect.objectContaining({ numberToken: n, reports: 3, reporters: 3, partners: 1, regions: ['510100'] }),
    ]);
    expect(queue.body.items[0].list).toMatchObject({ list: 'gray' });
    expect((await stack.api(op, 'GET', '/api/reports')).status).toBe(403);
    const rows = await stack.api(sup, 'GET', `/api/reports/numbers/${n}`);
    expect(rows.body).toHaveLength(3);
    expect(rows.body[0]).toMatchObject({
      category: 'impersonation_police',
      evidence: 'said he was a police officer',
      state: 'pending',
    });

    const confirmed = await stack.api(sup, 'POST', `/api/reports/numbers/${n}/confirm`, {
      note: 'matches the ring of case 12',
    });
    expect(confirmed).toMatchObject({ status: 200, body: { reviewed: 3, list: 'black' } });
    const live = await stack.api(sup, 'GET', `/api/lists?scope=*`);
    expect(
      (live.body as { numberToken: string; list: string }[])
        .filter((e) => e.numberToken === n)
        .map((e) => e.list),
    ).toEqual(['black']);
    expect(await stack.redis.hget(new RedisKeys(stack.prefix).numLists(n), '*')).toMatch(/^black\|/);
    expect((await stack.api(sup, 'GET', '/api/reports')).body.items).toEqual([]);
    const audit = await stack.db.pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE object_id = $1 ORDER BY id`,
      [n],
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['reports.read_number', 'reports.confirm']);
  });

  it('lifts a graylisting when the reports are dismissed', async () => {
    const key = await partner('hotline');
    const n = token();
    for (const r of ['a', 'b', 'c']) await send(key, { reporter: r, number: n, category: 'investment' });
    const d = await stack.api(sup, 'POST', `/api/reports/numbers/${n}/dismiss`, {
      note: 'a bank campaign, verified',
    });
    expect(d).toMatchObject({ status: 200, body: { reviewed: 3, graylistLifted: true } });
    expect(await stack.redis.hget(new RedisKeys(stack.prefix).numLists(n), '*')).toBeNull();
  });

  it('holds a partner key to its rate, and a revoked key is refused', async () => {
    const r = await stack.api(admin, 'POST', '/api/report-partners', { id: 'flooder', name: 'flooder' });
    const key = r.body.apiKey as string;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 14; i++) {
      const s = await send(key, { reporter: `r${i}`, number: token(), category: 'other' });
      statuses.push(s.status);
      retryAfter ??= s.retryAfter;
    }
    expect(statuses.slice(0, 12).every((s) => s === 201)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await stack.api(admin, 'POST', `/api/report-partners/keys/${r.body.keyId}/revoke`)).status).toBe(
      200,
    );
    expect((await send(key, { reporter: 'late', number: token(), category: 'other' })).status).toBe(401);
  });
});
