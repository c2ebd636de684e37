import { cpus } from 'node:os';
import { BUNDLED_MODEL_PATH } from '../apps/detector/src/scoring/model-registry';
import { callerFeatures, CallerModel, CallerWindows, emptyWindows, FEATURE_COUNT } from '@eagle-eye/scoring';

/**
 * `npm run bench:model`: CPU per scored event of the caller-risk model as the detector runs it
 * (features from the windows, then the calibrated probability), and of the reasons an alert adds
 * (path contributions). Windows are varied from the model's own parity vectors so the trees take
 * realistic paths. Prints microseconds of process CPU per call, the median of five rounds.
 */
function windowsFrom(x: number[], at: number): CallerWindows {
  // invert the features that are plain counts; ratios come back through the matching counters
  const w = emptyWindows(at);
  w.attempts10m = x[0];
  w.attempts1h = x[1];
  w.distinct1h = x[2];
  w.attempts24h = x[3];
  w.distinct24h = x[4];
  w.newEver24h = Math.max(0, Math.round(x[6] * x[3]));
  w.answered24h = Math.max(0, Math.round(x[7] * x[3]));
  w.ended24h = w.answered24h;
  w.talk24h = Math.max(0, x[8] * w.ended24h);
  w.short24h = Math.max(0, Math.round(x[9] * w.ended24h));
  w.long24h = Math.max(0, Math.round(x[10] * w.ended24h));
  w.slots24h = x[11];
  w.attempts7d = x[12];
  w.distinct7d = x[13];
  w.newEver7d = Math.max(0, Math.round(x[15] * x[12]));
  w.days7d = x[16];
  w.ended7d = w.ended24h;
  w.talk7d = Math.max(0, x[17] * w.ended7d);
  return w;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function main(): void {
  const model = CallerModel.load(process.argv[2] ?? BUNDLED_MODEL_PATH);
  const ws = model.file.parity.map((p, i) => windowsFrom(p.x, 1_800_000_000_000 + i));
  const scratch = new Float64Array(FEATURE_COUNT);
  const n = 400_000;
  let sink = 0;
  const round = (fn: (w: CallerWindows) => number, calls: number): number => {
    const t0 = cpuUs();
    for (let i = 0; i < calls; i++) sink += fn(ws[i % ws.length]);
    return (cpuUs() - t0) / calls;
  };
  const score = (w: CallerWindows) => model.probability(callerFeatures(w, scratch));
  const featuresOnly = (w: CallerWindows) => callerFeatures(w, scratch)[3];
  const table = (w: CallerWindows) => model.rawByTable(callerFeatures(w, scratch));
  const reasons = (w: CallerWindows) => model.contributions(callerFeatures(w, scratch)).length;
  round(score, n); // warm-up: JIT
  round(reasons, n / 10);
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const scoreUs = med(Array.from({ length: 5 }, () => round(score, n)));
  const featureUs = med(Array.from({ length: 5 }, () => round(featuresOnly, n)));
  const tableUs = med(Array.from({ length: 5 }, () => round(table, n / 4)));
  const reasonUs = med(Array.from({ length: 5 }, () => round(reasons, n / 10)));
  const nodes = model.file.trees.reduce((s, t) => s + t.f.length, 0);
  process.stdout.write(
    [
      `caller-risk model ${model.version}: ${model.file.trees.length} trees, ${nodes} nodes, ${FEATURE_COUNT} features`,
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
      `features + calibrated probability: ${scoreUs.toFixed(3)} us CPU per scored event (target <= 2)`,
      `  of which the features alone: ${featureUs.toFixed(3)} us; the same trees walked as a node table: ${tableUs.toFixed(3)} us`,
      `reasons (path contributions, alerts only): ${reasonUs.toFixed(3)} us CPU per alert`,
      `(checksum ${sink.toFixed(3)})`,
      '',
    ].join('\n'),
  );
}

main();
