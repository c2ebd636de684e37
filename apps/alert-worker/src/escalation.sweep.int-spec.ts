import { createPool, seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { alertEscalations, alertEscalationSweeps } from './alert-worker.metrics';
import { AlertPublisher } from './alert.publisher';
import { AlertRepository, PublishableAlert } from './alert.repository';
import { AlertWorkerConfigSchema } from './config';
import { EscalationSweep } from './escalation.sweep';
import { markClaimed, victimJobRaisedAgo as job } from './test/alert-fixtures';

/**
 * The escalation sweep on the real PostgreSQL: what is due is escalated and published once, what
 * is not due or no longer open is left alone, the timer runs it, and a database away is a counted,
 * logged failure the next sweep recovers from.
 */
const config = (over: Record<string, string> = {}) =>
  AlertWorkerConfigSchema.parse({ NODE_ENV: 'test', ALERT_ESCALATE_AFTER_S: '60', ...over });

async function counter(
  c: typeof alertEscalationSweeps | typeof alertEscalations,
  result?: string,
): Promise<number> {
  const { values } = await c.get();
  return values.filter((v) => !result || v.labels.result === result).reduce((a, v) => a + v.value, 0);
}

describe('EscalationSweep on real PostgreSQL', () => {
  let db: TestSchema;
  let repo: AlertRepository;
  const published: PublishableAlert[] = [];
  const publisher = { publish: (a: PublishableAlert) => void published.push(a) } as unknown as AlertPublisher;
  beforeAll(async () => {
    db = await createTestSchema();
    await seedDemo(db.pool);
    repo = new AlertRepository(db.pool);
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(() => {
    published.length = 0;
  });

  it('escalates and publishes each alert due once; not yet due and claimed alerts stay', async () => {
    const [due] = await repo.upsertCallAlert(job(120_000));
    const [soon] = await repo.upsertCallAlert(job(10_000));
    const [claimed] = await repo.upsertCallAlert(job(120_000));
    await markClaimed(db.pool, claimed.alertId);
    const sweep = new EscalationSweep(repo, publisher, config());
    const escalations = await counter(alertEscalations);
    const ok = await counter(alertEscalationSweeps, 'ok');
    expect(await sweep.runOnce()).toBe(1);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      created: false,
      view: { id: due.alertId, state: 'escalated', routedToPolice: true, policeReason: 'unclaimed' },
    });
    expect(await sweep.runOnce()).toBe(0);
    expect(published).toHaveLength(1);
    expect(await counter(alertEscalations)).toBe(escalations + 1);
    expect(await counter(alertEscalationSweeps, 'ok')).toBe(ok + 2);
    const { rows } = await db.pool.query<{ id: string; state: string }>(
      `SELECT id, state FROM alerts WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [[soon.alertId, claimed.alertId]],
    );
    expect(rows.map((r) => r.state)).toEqual(['open', 'claimed']);
  });

  it('runs on its timer once the application starts, and stops with it', async () => {
    const sweep = new EscalationSweep(
      repo,
      publisher,
      config({ ALERT_ESCALATE_AFTER_S: '1', ALERT_ESCALATION_SWEEP_MS: '100' }),
    );
    sweep.onApplicationBootstrap();
    try {
      const [a] = await repo.upsertCallAlert(job(0));
      const deadline = Date.now() + 10_000;
      while (!published.some((p) => p.view.id === a.alertId) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const at = published.find((p) => p.view.id === a.alertId);
      expect(at?.view).toMatchObject({ state: 'escalated', policeReason: 'unclaimed' });
    } finally {
      await sweep.onModuleDestroy();
    }
    // stopped: an alert due later is left for the next worker
    published.length = 0;
    await repo.upsertCallAlert(job(5_000));
    await new Promise((r) => setTimeout(r, 400));
    expect(published).toEqual([]);
  });

  it('counts and logs a sweep whose database is away, and throws nothing', async () => {
    const away = createPool('postgres://eagleeye:x@127.0.0.1:1/none', { max: 1 });
    try {
      const sweep = new EscalationSweep(new AlertRepository(away), publisher, config());
      const errors = await counter(alertEscalationSweeps, 'error');
      expect(await sweep.runOnce()).toBe(0);
      expect(await counter(alertEscalationSweeps, 'error')).toBe(errors + 1);
    } finally {
      await away.end();
    }
  });
});
