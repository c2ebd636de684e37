import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { baseSchema, loadConfig } from '@eagle-eye/config';
import { assertPostgresReachable, createPool } from '@eagle-eye/db';
import { CARRIER_ID } from '@eagle-eye/contracts';
import { numberOption } from './cli-common';
import { exportFeedback } from './feedback/feedback-export';

const USAGE = `Usage: node dist/apps/simulator/src/feedback-export.cli.js --carrier <id> --out feedback.csv
  [--seed 1] [--folds 5] [--per-number 100] [--actor <who>]

The model's feedback loop: one carrier's reviewed decisions (alert outcomes confirmed fraud / false
positive, reviewed reports confirmed / dismissed) joined with the caller-model features kept with
that carrier's alerts, written as training samples for \`npm run train -- --feedback FILE\` (or
\`npm run train -- --feedback-carrier <id>\`, which runs this first), and their provenance beside
them (FILE.provenance.ndjson). Reads DATABASE_URL; pseudonym tokens only; audited.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      carrier: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      folds: { type: 'string', default: '5' },
      'per-number': { type: 'string', default: '100' },
      actor: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.out || !values.carrier) {
    process.stdout.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (!CARRIER_ID.test(values.carrier)) throw new Error(`--carrier must match ${CARRIER_ID.source}`);
  const cfg = loadConfig(baseSchema);
  await assertPostgresReachable(cfg.DATABASE_URL);
  const pool = createPool(cfg.DATABASE_URL, { max: 2 });
  try {
    const r = await exportFeedback(pool, {
      carrierId: values.carrier,
      out: values.out,
      seed: numberOption('seed', values.seed, 1, 0),
      folds: numberOption('folds', values.folds, 5, 2),
      perNumber: numberOption('per-number', values['per-number'], 100, 1),
      actor: values.actor ?? `cli:${process.env.USER ?? userInfo().username}`,
    });
    const s = r.stats;
    process.stderr.write(
      `feedback: carrier ${values.carrier}: ${s.decisions} decisions -> ${s.numbers} labelled numbers (${s.fraud} fraud), ` +
        `${s.samples} samples; ${s.withoutFeatures} numbers without feature snapshots, ${s.conflicts} with conflicting decisions, ` +
        `${s.duplicates} repeated and ${s.incomplete} incomplete snapshots skipped${s.refused ? `, ${s.refused} non-pseudonym tokens refused` : ''} -> ${r.out}\n`,
    );
  } finally {
    await pool.end();
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`feedback: ${e.message}\n`);
      process.exit(1);
    },
  );
}
