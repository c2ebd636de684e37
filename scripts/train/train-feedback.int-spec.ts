import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedDemo } from '@eagle-eye/db';
import { CallerModel, FEATURE_COUNT, FEATURE_NAMES } from '@eagle-eye/scoring';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { exportFeedback } from '../../apps/simulator/src/feedback/feedback-export';

const PY = '/usr/bin/python3';
const TRAINER = resolve(__dirname, 'train_caller_model.py');
const hasSklearn = spawnSync(PY, ['-c', 'import sklearn.linear_model']).status === 0;
const HEADER = ['number', 'fold', 'label', 'active_day', 'weight', ...FEATURE_NAMES].join(',');

/** A small deterministic stand-in for the published samples: feature 0 decides, with 10 % noise. */
function published(path: string): void {
  let s = 7;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rows: string[] = [];
  for (let n = 0; n < 300; n++) {
    const f0 = rnd();
    const label = f0 > 0.5 !== rnd() < 0.1 ? 1 : 0;
    for (let k = 0; k < 4; k++) {
      const x = Array.from({ length: FEATURE_COUNT }, (_, i) => (i === 0 ? f0 + rnd() / 20 : rnd()));
      rows.push([n, n % 5, label, k % 2, 0.25, ...x.map((v) => v.toPrecision(12))].join(','));
    }
  }
  writeFileSync(path, `# data_sha256=synthetic seed=1 numbers=300 calls=0\n${HEADER}\n${rows.join('\n')}\n`);
}

/** Feedback numbers in a corner the published data never shows (feature 1 at 5): all fraud. */
function feedback(path: string): void {
  const rows: string[] = [];
  for (let n = 0; n < 40; n++)
    for (let k = 0; k < 3; k++) {
      const x = Array.from({ length: FEATURE_COUNT }, (_, i) => (i === 0 ? 0.1 : i === 1 ? 5 + k / 10 : 0.5));
      rows.push([1_000_000 + n, n % 5, 1, 0, 1 / 3, ...x].join(','));
    }
  writeFileSync(
    path,
    `# feedback carrier=carrier-a seed=1 folds=5 numbers=40 fraud=40 samples=120\n${HEADER}\n${rows.join('\n')}\n`,
  );
}

function train(samples: string, out: string, extra: string[] = []): string {
  const r = spawnSync(PY, [TRAINER, '--samples', samples, '--out', out, '--seed', '1', ...extra], {
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`trainer failed (${r.status}): ${r.stderr}`);
  return r.stderr;
}

/** The published figures the trainer prints (its cross-validation), without the feedback's own. */
const publishedFigures = (log: string) =>
  log
    .split('\n')
    .filter((l) => /out-of-fold(:| numbers,)/.test(l))
    .join('\n');

/**
 * Step 2 of `npm run train` with the feedback loop: an empty feedback set (exported from a real
 * database where nobody has reviewed anything yet) gives the published data's model byte for byte,
 * so its cross-validation figures cannot move; labelled feedback joins the training and teaches
 * the model what the published data never showed, while the published figures are still computed
 * on the published numbers alone.
 */
(hasSklearn ? describe : describe.skip)('caller-model training with feedback (scikit-learn)', () => {
  let db: TestSchema;
  const dir = mkdtempSync(join(tmpdir(), 'ee-train-fb-'));
  const samples = join(dir, 'samples.csv');
  beforeAll(async () => {
    db = await createTestSchema({ appRole: true });
    await seedDemo(db.pool);
    published(samples);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('an empty feedback set changes nothing: same file, same printed figures', async () => {
    const empty = join(dir, 'empty.csv');
    const r = await exportFeedback(db.pool, {
      carrierId: 'carrier-a',
      out: empty,
      folds: 5,
      seed: 1,
      perNumber: 100,
      actor: 'cli:test',
    });
    expect(r.stats.numbers).toBe(0);
    const plainLog = train(samples, join(dir, 'plain.json'));
    const emptyLog = train(samples, join(dir, 'empty.json'), ['--feedback', empty]);
    expect(readFileSync(join(dir, 'empty.json'), 'utf8')).toBe(readFileSync(join(dir, 'plain.json'), 'utf8'));
    expect(publishedFigures(emptyLog)).toBe(publishedFigures(plainLog));
    expect(publishedFigures(plainLog)).toMatch(/sample AUC 0\.\d+/);
    expect(emptyLog).not.toContain('feedback');
  }, 300_000);

  it('labelled feedback trains the model, reported apart from the published figures', () => {
    const fb = join(dir, 'feedback.csv');
    feedback(fb);
    const log = train(samples, join(dir, 'fb.json'), ['--feedback', fb, '--feedback-weight', '2']);
    expect(log).toContain('feedback of carrier carrier-a: 120 samples of 40 numbers (40 fraud)');
    expect(log).toMatch(/out-of-fold feedback numbers at that threshold: precision 1\.000 recall 1\.000/);
    const file = JSON.parse(readFileSync(join(dir, 'fb.json'), 'utf8')) as {
      training: { feedback: Record<string, unknown> };
      metrics: { feedback_oof: Record<string, unknown> };
    };
    expect(file.training.feedback).toMatchObject({
      carrier: 'carrier-a',
      numbers: 40,
      fraud: 40,
      samples: 120,
      weight: 2,
    });
    expect(file.metrics.feedback_oof).toMatchObject({ numbers: 40, fraud: 40, sample_auc: null });
    // what the feedback taught: that corner is fraud now, and was not before
    const corner = new Float64Array(FEATURE_COUNT).fill(0.5);
    corner[0] = 0.1;
    corner[1] = 5.05;
    const before = CallerModel.load(join(dir, 'plain.json'));
    const after = CallerModel.load(join(dir, 'fb.json'));
    expect(before.probability(corner)).toBeLessThan(before.thresholds.suspect);
    expect(after.probability(corner)).toBeGreaterThanOrEqual(after.thresholds.suspect);
    // away from that corner the published numbers still decide: a low feature 0 is no suspect
    const ordinary = new Float64Array(FEATURE_COUNT).fill(0.5);
    ordinary[0] = 0.1;
    expect(after.probability(ordinary)).toBeLessThan(after.thresholds.suspect);
    expect(after.probability(ordinary)).toBeLessThan(after.probability(corner) / 2);
  }, 300_000);
});

if (!hasSklearn) {
  it.skip('caller-model training with feedback: needs scikit-learn for /usr/bin/python3 (apt-get install python3-sklearn)', () =>
    undefined);
}
