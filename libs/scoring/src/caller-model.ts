import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureName } from './features';

/**
 * A calibrated caller-risk model as `npm run train` exports it (scripts/train/train_caller_model.py):
 * a gradient-boosted tree ensemble over FEATURE_NAMES whose raw margin is mapped to
 * P(fraud caller | features now) by Platt scaling fitted on out-of-fold predictions, with the
 * decision thresholds chosen on those predictions and the cross-validated metrics.
 */
export interface CallerModelFile {
  format: 'eagle-eye.caller-model/1';
  version: string;
  features: string[];
  baseline: number;
  trees: { f: number[]; t: number[]; l: number[]; r: number[]; m: number[]; v: number[] }[];
  calibration: { kind: 'platt'; a: number; b: number };
  /** probabilities: `suspect` reaches the target precision on out-of-fold numbers */
  thresholds: { suspect: number; targetPrecision: number };
  metrics: Record<string, unknown>;
  training: Record<string, unknown>;
  /** feature vectors with the trainer's own predictions, for the parity test */
  parity: { x: number[]; raw: number; p: number }[];
}

export interface Contribution {
  feature: FeatureName;
  /** this feature's part of the margin above the average sample's (expectedRaw) */
  value: number;
}

/**
 * Evaluates a CallerModelFile in-process. Trees are flattened into typed arrays (one node table for
 * the whole ensemble) so scoring an event is a few hundred comparisons and no allocation.
 */
export class CallerModel {
  readonly version: string;
  readonly thresholds: CallerModelFile['thresholds'];
  /** sha-256 of the file's bytes as loaded */
  readonly sha256: string;
  private readonly feat: Int16Array;
  private readonly thr: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly missLeft: Uint8Array;
  private readonly val: Float64Array;
  private readonly roots: Int32Array;
  private readonly baseline: number;
  private readonly a: number;
  private readonly b: number;
  /** the ensemble compiled to nested comparisons (see compile) */
  private readonly compiled: (x: ArrayLike<number>) => number;

  constructor(
    readonly file: CallerModelFile,
    sha256 = '',
  ) {
    if (file.format !== 'eagle-eye.caller-model/1')
      throw new Error(`unknown model format ${String(file.format)}`);
    if (file.features.length !== FEATURE_COUNT || file.features.some((f, i) => f !== FEATURE_NAMES[i])) {
      throw new Error(
        `model ${file.version} was trained on features [${file.features.join(', ')}], the detector computes [${FEATURE_NAMES.join(', ')}]`,
      );
    }
    this.version = file.version;
    this.thresholds = file.thresholds;
    this.sha256 = sha256;
    const n = file.trees.reduce((s, t) => s + t.f.length, 0);
    this.feat = new Int16Array(n);
    this.thr = new Float64Array(n);
    this.left = new Int32Array(n);
    this.right = new Int32Array(n);
    this.missLeft = new Uint8Array(n);
    this.val = new Float64Array(n);
    this.roots = new Int32Array(file.trees.length);
    let o = 0;
    file.trees.forEach((t, k) => {
      this.roots[k] = o;
      for (let i = 0; i < t.f.length; i++) {
        this.feat[o + i] = t.f[i];
        this.thr[o + i] = t.t[i];
        this.left[o + i] = t.f[i] < 0 ? -1 : o + t.l[i];
        this.right[o + i] = t.f[i] < 0 ? -1 : o + t.r[i];
        this.missLeft[o + i] = t.m[i];
        this.val[o + i] = t.v[i];
      }
      o += t.f.length;
    });
    this.baseline = file.baseline;
    this.a = file.calibration.a;
    this.b = file.calibration.b;
    this.compiled = compile(file);
  }

  static load(path: string): CallerModel {
    const raw = readFileSync(path);
    return new CallerModel(
      JSON.parse(raw.toString('utf8')) as CallerModelFile,
      createHash('sha256').update(raw).digest('hex'),
    );
  }

  /** the margin of an average training sample: baseline plus every tree's root expectation */
  get expectedRaw(): number {
    let s = this.baseline;
    for (let k = 0; k < this.roots.length; k++) s += this.val[this.roots[k]];
    return s;
  }

  /** raw margin (log-odds before calibration) */
  raw(x: ArrayLike<number>): number {
    return this.compiled(x);
  }

  /** raw margin by walking the node table (the reference for the compiled form) */
  rawByTable(x: ArrayLike<number>): number {
    const { feat, thr, left, right, missLeft, val, roots } = this;
    let s = this.baseline;
    for (let k = 0; k < roots.length; k++) {
      let i = roots[k];
      let f = feat[i];
      while (f >= 0) {
        const v = x[f];
        i = v <= thr[i] || (v !== v && missLeft[i] === 1) ? left[i] : right[i];
        f = feat[i];
      }
      s += val[i];
    }
    return s;
  }

  /** calibrated probability that the caller is a fraud number */
  probability(x: ArrayLike<number>): number {
    return calibrate(this.raw(x), this.a, this.b);
  }

  /**
   * Per-feature contributions to the raw margin along each tree's path (each split credits the
   * change of expected value to its feature), largest first. Only for alerts: it allocates.
   */
  contributions(x: ArrayLike<number>): Contribution[] {
    const { feat, thr, left, right, missLeft, val, roots } = this;
    const c = new Float64Array(FEATURE_COUNT);
    for (let k = 0; k < roots.length; k++) {
      let i = roots[k];
      while (feat[i] >= 0) {
        const f = feat[i];
        const v = x[f];
        const next = v <= thr[i] || (v !== v && missLeft[i] === 1) ? left[i] : right[i];
        c[f] += val[next] - val[i];
        i = next;
      }
    }
    return Array.from(c, (value, i) => ({ feature: FEATURE_NAMES[i], value }))
      .filter((e) => e.value !== 0)
      .sort((p, q) => q.value - p.value);
  }
}

/**
 * Compiles the ensemble to one JavaScript function of nested comparisons, which the JIT turns into
 * straight-line branches: about five times faster than walking the node table (bench:model). Only
 * numbers ever reach the generated source: every field is checked to be a finite number or an
 * in-range node index first, so a model file cannot inject code.
 */
function compile(file: CallerModelFile): (x: ArrayLike<number>) => number {
  const lit = (v: number, what: string): string => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(`model ${file.version}: ${what} is not a finite number`);
    return Object.is(v, -0) ? '0' : String(v);
  };
  // one small function per group of trees: TurboFan optimises small functions, not one huge one
  const GROUP = 30;
  const groups: ((x: ArrayLike<number>) => number)[] = [];
  for (let g = 0; g < file.trees.length; g += GROUP) {
    const parts: string[] = ['let s = 0;'];
    file.trees.slice(g, g + GROUP).forEach((t, j) => {
      const k = g + j;
      const node = (i: number, depth: number): string => {
        if (!Number.isInteger(i) || i < 0 || i >= t.f.length || depth > 64)
          throw new Error(`model ${file.version}: tree ${k} is malformed`);
        const f = t.f[i];
        if (f < 0) return `s += ${lit(t.v[i], `tree ${k} leaf ${i}`)};`;
        if (!Number.isInteger(f) || f >= FEATURE_COUNT)
          throw new Error(`model ${file.version}: tree ${k} splits on feature ${f}`);
        const v = `x[${f}]`;
        const cond =
          t.m[i] === 1
            ? `${v} <= ${lit(t.t[i], 'threshold')} || ${v} !== ${v}`
            : `${v} <= ${lit(t.t[i], 'threshold')}`;
        return `if (${cond}) { ${node(t.l[i], depth + 1)} } else { ${node(t.r[i], depth + 1)} }`;
      };
      parts.push(node(0, 0));
    });
    parts.push('return s;');
    groups.push(new Function('x', parts.join('\n')) as (x: ArrayLike<number>) => number);
  }
  const base = Number(lit(file.baseline, 'baseline'));
  const compiled = (x: ArrayLike<number>): number => {
    let s = base;
    for (let i = 0; i < groups.length; i++) s += groups[i](x);
    return s;
  };
  // Every branch taken once before the JIT compiles the functions: a branch it has never seen run
  // is compiled as a deoptimisation ("insufficient type feedback"), so each leaf first reached in
  // traffic threw the function back to the interpreter, which boxes every feature read and every
  // sum (about 2 KB of garbage per event in the detector) until the next optimisation.
  const inputs = leafInputs(file);
  for (let pass = 0; pass < 2; pass++) for (const x of inputs) compiled(x);
  return compiled;
}

/**
 * One feature vector per leaf of every tree that reaches that leaf (the other trees go wherever it
 * takes them): each split on the way bounds its feature, (lo, hi], and the vector takes a value in
 * every bound (hi, or above lo when only lo is set), 0 for a feature the path does not test.
 */
export function leafInputs(file: CallerModelFile): Float64Array[] {
  const out: Float64Array[] = [];
  const lo = new Float64Array(FEATURE_COUNT);
  const hi = new Float64Array(FEATURE_COUNT);
  for (const t of file.trees) {
    lo.fill(-Infinity);
    hi.fill(Infinity);
    const walk = (i: number, depth: number): void => {
      const f = t.f[i];
      if (f < 0 || depth > 64) {
        const x = new Float64Array(FEATURE_COUNT);
        for (let k = 0; k < FEATURE_COUNT; k++) {
          if (hi[k] !== Infinity) x[k] = hi[k];
          else if (lo[k] !== -Infinity) x[k] = lo[k] + Math.max(1, Math.abs(lo[k]));
        }
        out.push(x);
        return;
      }
      const l = lo[f];
      const h = hi[f];
      hi[f] = Math.min(h, t.t[i]);
      walk(t.l[i], depth + 1);
      hi[f] = h;
      lo[f] = Math.max(l, t.t[i]);
      walk(t.r[i], depth + 1);
      lo[f] = l;
    };
    walk(0, 0);
  }
  return out;
}

export function calibrate(raw: number, a: number, b: number): number {
  return 1 / (1 + Math.exp(-(a * raw + b)));
}
