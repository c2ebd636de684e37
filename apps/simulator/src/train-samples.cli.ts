import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES } from '@eagle-eye/scoring';
import { numberOption } from './cli-common';
import { readProfiles } from './sichuan/profile';
import { trainingSamples } from './sichuan/training-samples';

const USAGE = `Usage: node dist/apps/simulator/src/train-samples.cli.js [--data ../shared/data/sichuan/all_feat_with_label.csv]
  [--seed 1] [--folds 5] [--days 3] [--per-day 100] --out samples.csv

Step 1 of \`npm run train\`: replays every labelled number of the Sichuan data as a call stream
faithful to its row (apps/simulator/src/sichuan), computes the detector's caller windows offline
after each of its outgoing attempts and writes one CSV row per sample: number, fold, label, active
day, weight, then the features. The same data and seed always give the same file.`;

/** The Sichuan data beside the checkout (shared/data), wherever the command runs from. */
export function defaultSichuanPath(): string {
  return resolve(
    __dirname,
    '..',
    '..',
    '..',
    '..',
    '..',
    'shared',
    'data',
    'sichuan',
    'all_feat_with_label.csv',
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      seed: { type: 'string', default: '1' },
      folds: { type: 'string', default: '5' },
      days: { type: 'string', default: '3' },
      'per-day': { type: 'string', default: '100' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.out) {
    process.stdout.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const data = values.data ?? defaultSichuanPath();
  if (!existsSync(data)) throw new Error(`training data not found at ${data} (see shared/data/README.md)`);
  const seed = numberOption('seed', values.seed, 1, 0);
  const { profiles, skipped, sha256 } = readProfiles(data);
  const log = (s: string) => process.stderr.write(s + '\n');
  log(
    `train: ${profiles.length} numbers with calls (${skipped} rows without voice records skipped), data sha256 ${sha256.slice(0, 16)}`,
  );
  const t0 = Date.now();
  const set = trainingSamples(
    profiles,
    {
      seed,
      folds: numberOption('folds', values.folds, 5, 2),
      days: numberOption('days', values.days, 3, 1),
      perDay: numberOption('per-day', values['per-day'], 100, 1),
      startMs: Date.UTC(2020, 0, 6),
      shortCallS: 10,
      latenessMs: 120_000,
    },
    (done) => {
      if (done % 500 === 0 || done === profiles.length)
        log(`train: replayed ${done}/${profiles.length} numbers`);
    },
  );
  mkdirSync(dirname(resolve(values.out)), { recursive: true });
  const out = createWriteStream(values.out);
  out.write(`# data_sha256=${sha256} seed=${seed} numbers=${set.numbers} calls=${set.calls}\n`);
  out.write(['number', 'fold', 'label', 'active_day', 'weight', ...FEATURE_NAMES].join(',') + '\n');
  for (const r of set.rows)
    out.write(Array.from(r, (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(12))).join(',') + '\n');
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  log(
    `train: ${set.rows.length} samples from ${set.calls} calls in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${values.out}`,
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`train: ${e.message}\n`);
      process.exit(1);
    },
  );
}
