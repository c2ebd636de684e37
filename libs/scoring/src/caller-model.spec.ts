import { join } from 'node:path';
import { CallerModel, leafInputs } from './caller-model';
import { callerFeatures, describeFeature, FEATURE_NAMES } from './features';
import { emptyWindows } from './windows';

const MODEL = join(__dirname, '..', '..', '..', 'apps', 'detector', 'models', 'caller-risk.json');

describe('caller-risk model', () => {
  const m = CallerModel.load(MODEL);

  it("matches the trainer's own predictions on its parity vectors", () => {
    expect(m.file.parity.length).toBeGreaterThanOrEqual(100);
    for (const v of m.file.parity) {
      expect(m.raw(v.x)).toBeCloseTo(v.raw, 9);
      expect(m.rawByTable(v.x)).toBeCloseTo(v.raw, 9);
      expect(m.probability(v.x)).toBeCloseTo(v.p, 9);
    }
  });

  it('carries its provenance: data hash, thresholds and cross-validated metrics', () => {
    expect(m.version).toMatch(/^caller-risk-[a-z]{12}$/);
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.file.training.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.thresholds.targetPrecision).toBe(0.95);
    expect(m.thresholds.suspect).toBeGreaterThan(0.5);
    expect(m.thresholds.suspect).toBeLessThan(1);
    expect(m.file.metrics.first_day_precision).toBeGreaterThanOrEqual(0.9);
  });

  it('warms every branch: one input per leaf of every tree reaches that leaf, scored alike both ways', () => {
    const inputs = leafInputs(m.file);
    let o = 0;
    m.file.trees.forEach((t, k) => {
      const leaves = t.f.map((f, i) => (f < 0 ? i : -1)).filter((i) => i >= 0);
      // the tree's own inputs come in a row, one per leaf, left to right
      const reached = inputs.slice(o, o + leaves.length).map((x) => {
        let i = 0;
        while (t.f[i] >= 0) i = x[t.f[i]] <= t.t[i] ? t.l[i] : t.r[i];
        return i;
      });
      expect({ tree: k, reached: [...reached].sort((a, b) => a - b) }).toEqual({
        tree: k,
        reached: [...leaves].sort((a, b) => a - b),
      });
      o += leaves.length;
    });
    expect(o).toBe(inputs.length);
    for (const x of inputs.slice(0, 200)) expect(m.raw(x)).toBeCloseTo(m.rawByTable(x), 9);
  });

  it('path contributions add up to the margin above the average sample', () => {
    for (const v of m.file.parity.slice(0, 50)) {
      const sum = m.contributions(v.x).reduce((s, c) => s + c.value, 0);
      expect(sum).toBeCloseTo(v.raw - m.expectedRaw, 6);
    }
  });

  it('separates a call-centre day from an ordinary one, and says why in plain words', () => {
    const at = 1_800_000_000_000;
    const ordinary = { ...emptyWindows(at), attempts1h: 1, distinct1h: 1, attempts24h: 3, distinct24h: 2 };
    Object.assign(ordinary, { newEver24h: 2, answered24h: 3, talk24h: 240, ended24h: 3, slots24h: 2 });
    Object.assign(ordinary, {
      attempts7d: 3,
      distinct7d: 2,
      newEver7d: 2,
      talk7d: 240,
      ended7d: 3,
      days7d: 1,
    });
    const fanout = { ...emptyWindows(at), attempts10m: 4, attempts1h: 12, distinct1h: 12, attempts24h: 40 };
    Object.assign(fanout, { distinct24h: 39, newEver24h: 40, answered24h: 40, talk24h: 3000, ended24h: 40 });
    Object.assign(fanout, { short24h: 4, long24h: 5, slots24h: 5, attempts7d: 40, distinct7d: 39 });
    Object.assign(fanout, { newEver7d: 40, talk7d: 3000, ended7d: 40, days7d: 1 });
    const pOrd = m.probability(callerFeatures(ordinary));
    const pFan = m.probability(callerFeatures(fanout));
    expect(pOrd).toBeLessThan(m.thresholds.suspect);
    expect(pFan).toBeGreaterThanOrEqual(m.thresholds.suspect);
    const top = m.contributions(callerFeatures(fanout))[0];
    expect(FEATURE_NAMES).toContain(top.feature);
    expect(describeFeature(top.feature, fanout)).toMatch(/\d/);
  });

  it('refuses a model trained on other features, and a malformed one before compiling it', () => {
    expect(() => new CallerModel({ ...m.file, features: ['x'] })).toThrow(/trained on features/);
    const bad = JSON.parse(JSON.stringify(m.file)) as typeof m.file;
    (bad.trees[0].t as unknown[])[0] = '0); process.exit(1); (0';
    expect(() => new CallerModel(bad)).toThrow(/not a finite number/);
  });
});
