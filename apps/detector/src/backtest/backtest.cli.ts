import { Logger } from '@nestjs/common';
import { runBacktest } from './backtest.command';

// the detector's per-alert debug lines are for the live service; the report is the output here
Logger.overrideLogger(['error', 'warn']);

runBacktest(process.argv.slice(2), process.env, {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
}).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`backtest: ${e.message}\n`);
    process.exit(1);
  },
);
