import { runBacktest } from './backtest.command';

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
