import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { csvMedians, formatComparison, simulateFraud, simulateNormal } from './calibrate/calibration';
import { numberOption } from './cli-common';

const DEFAULT_CSV = join(__dirname, '../../../../../shared/data/sichuan/all_feat_with_label.csv');

const USAGE = `Usage: npm run calibrate -- [--csv ../shared/data/sichuan/all_feat_with_label.csv]
  [--subscribers 5000] [--days 243] [--seed 1]

Reads the labelled Sichuan data, simulates normal subscribers for --days (the CSV covers ~8 months)
and fan-out scam numbers over their lifetimes with the generator's own behaviour, and prints the
per-subscriber medians side by side.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      csv: { type: 'string' },
      subscribers: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const csv =
    values.csv ??
    (existsSync(DEFAULT_CSV)
      ? DEFAULT_CSV
      : join(process.cwd(), '../shared/data/sichuan/all_feat_with_label.csv'));
  if (!existsSync(csv)) throw new Error(`CSV not found at ${csv}: pass --csv`);
  const size = Math.round(numberOption('subscribers', values.subscribers, 5000, 1000));
  const days = Math.round(numberOption('days', values.days, 243, 1));
  const seed = Math.round(numberOption('seed', values.seed, 1));
  const t0 = Date.now();
  const medians = await csvMedians(csv);
  const normal = simulateNormal(size, days, seed);
  const fraud = simulateFraud(Math.min(days, 40), seed);
  process.stdout.write(
    formatComparison(medians, normal, fraud.profile, fraud.numbers, `${size} subscribers over ${days} days`) +
      '\n',
  );
  process.stderr.write(`calibrate: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`calibrate: ${e.message}\n`);
    process.exit(1);
  },
);
