import { HandoffEvent } from '@eagle-eye/contracts';
import { CallerModelsRepository } from '@eagle-eye/rules';
import { CallerModel } from '@eagle-eye/scoring';
import { BUNDLED_MODEL_PATH } from '../scoring/model-registry';
import { call, Harness, startHarness, T0, token } from '../test/harness';

/**
 * The learned caller-risk model in the live path, on real Redis and PostgreSQL: behaviour the
 * hand-set points miss (answered calls to many different people over hours, no spoofing hints),
 * the model registry and its hot reload through the `caller_model` rule, and shadow mode.
 */
describe('caller-risk model, live', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({}, undefined, { models: true });
  });
  afterEach(async () => h.close());

  /** A day of a typical fraud SIM in the labelled data: 40 strangers over ~7 hours, answered, ~40 s each. */
  function fraudDay(caller: string, end: number): HandoffEvent[] {
    const out: HandoffEvent[] = [];
    for (let i = 0; i < 40; i++) out.push(...call(caller, token(), end - (40 - i) * 10 * 60_000, 40));
    return out;
  }

  async function hookVictim(caller: string): Promise<string[]> {
    const victim = token();
    const evs = call(caller, victim, T0, 900);
    await h.detection.process([h.entry(fraudDay(caller, T0 - 60_000))]);
    await h.detection.process([h.entry(evs.slice(0, 2))]); // attempt, answered
    await h.detection.sweep(T0 + 5000 + 61_000);
    return h.sink.jobs
      .filter((j) => j.name === 'victim-on-call' && (j.data as { victim: string }).victim === victim)
      .map((j) => JSON.stringify(j.data));
  }

  it('alerts the victim of a behavioural fraud number while on the call, the model naming the behaviour', async () => {
    const jobs = await hookVictim(token());
    expect(jobs.length).toBeGreaterThanOrEqual(1);
    expect(jobs[0]).toMatch(/"rule":"caller_model"/);
    expect(jobs[0]).toMatch(/"kind":"victim_on_call"/);
    expect(jobs[0]).toMatch(/likely a fraud caller \(.+\)/);
  });

  it('without the model (rule disabled) the same behaviour raises nothing: today’s points alone miss it', async () => {
    await h.repo.updateRule({
      ruleId: 'caller_model',
      scope: '*',
      enabled: false,
      actor: 'test',
      actorRole: 'admin',
      reason: 'baseline without the model',
    });
    await h.rules.reload();
    expect(await hookVictim(token())).toEqual([]);
  });

  it('registers the bundled model with its provenance; a version is immutable', async () => {
    const repo = new CallerModelsRepository(h.schema.pool);
    const bundled = CallerModel.load(BUNDLED_MODEL_PATH);
    const list = await repo.list();
    expect(list.map((m) => m.version)).toContain(bundled.version);
    const row = list.find((m) => m.version === bundled.version)!;
    expect(row.sha256).toBe(bundled.sha256);
    expect(row.thresholds.suspect).toBe(bundled.thresholds.suspect);
    expect(row.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    await repo.register(bundled.file, bundled.sha256, 'again'); // idempotent
    await expect(repo.register(bundled.file, 'f'.repeat(64), 'other')).rejects.toThrow(/other contents/);
    await expect(h.schema.pool.query('UPDATE caller_models SET registered_by = $1', ['x'])).rejects.toThrow(
      /immutable/,
    );
  });

  it('hot-reloads: a rule naming another registered version switches the deciding model; a shadow never alerts', async () => {
    const repo = new CallerModelsRepository(h.schema.pool);
    const bundled = CallerModel.load(BUNDLED_MODEL_PATH);
    // a stricter model: the same trees with a threshold nobody reaches
    const strict = {
      ...bundled.file,
      version: 'caller-risk-strict',
      thresholds: { ...bundled.thresholds, suspect: 0.999999 },
    };
    await repo.register(strict, 'a'.repeat(64), 'test');
    await h.repo.updateRule({
      ruleId: 'caller_model',
      scope: '*',
      params: { model: 'caller-risk-strict', shadowModel: '' },
      actor: 'test',
      actorRole: 'admin',
      reason: 'switch to the strict model',
    });
    await h.rules.reload();
    expect(h.rules.forCarrier(h.carrier).caller_model.params.model).toBe('caller-risk-strict');
    await h.models!.load('caller-risk-strict');
    expect(await hookVictim(token())).toEqual([]);

    // shadow: the strict model decides (nothing), the bundled one only reports
    await h.repo.updateRule({
      ruleId: 'caller_model',
      scope: '*',
      params: { model: 'caller-risk-strict', shadowModel: bundled.version },
      actor: 'test',
      actorRole: 'admin',
      reason: 'shadow the bundled model',
    });
    await h.rules.reload();
    expect(await hookVictim(token())).toEqual([]);
    const suspects = h.sink.jobs
      .filter((j) => j.name === 'suspect-number')
      .map((j) => JSON.stringify(j.data));
    expect(suspects.join('\n')).not.toMatch(/shadow model/);
  });
});
