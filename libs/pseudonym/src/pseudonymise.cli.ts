import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse';
import { cdrRowToEvents, GENERIC_COLUMNS, ImportOptions, RowError, SIMBOX_COLUMNS } from './cdr-import';
import { isKnownCountry, Pseudonymiser } from './pseudonym';

const USAGE = `Usage: npm run pseudonymise -- --input calls.csv --output events.ndjson --key-file carrier.key --key-id k1
  [--format generic|simbox] [--number-plan e164|opaque] [--utc-offset-minutes 480]
  [--caller-country CN] [--default-region 510100] [--default-country CN]

Converts a CSV of clear call records into pseudonymised call events (one JSON object a line, the
proto3 JSON form of eagleeye.v1.CallEvent). Runs on the carrier's side: the key never leaves it.
The key file holds at least 32 random bytes (raw, or hex/base64 text); EE_PSEUDONYM_KEY (hex) works too.
Columns, --format generic: caller, callee, start_time, duration_s[, imei, region, cell].
--default-country: numbers without + or 00 are in this country's national format (138 1234 5678,
(028) 8765 4321) and must be valid there; without it such numbers are refused.`;

function readKey(file: string | undefined): Buffer {
  const text = file
    ? readFileSync(file)
    : process.env.EE_PSEUDONYM_KEY
      ? Buffer.from(process.env.EE_PSEUDONYM_KEY)
      : undefined;
  if (!text) throw new Error('no key: pass --key-file or set EE_PSEUDONYM_KEY');
  const s = text.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64,}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{43,}={0,2}$/.test(s)) return Buffer.from(s, 'base64');
  return text;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      'key-file': { type: 'string' },
      'key-id': { type: 'string' },
      format: { type: 'string', default: 'generic' },
      'number-plan': { type: 'string' },
      'utc-offset-minutes': { type: 'string', default: '0' },
      'caller-country': { type: 'string', default: 'ZZ' },
      'default-region': { type: 'string', default: '000000' },
      'default-country': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.input || !values['key-id']) {
    process.stderr.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (values.format !== 'generic' && values.format !== 'simbox')
    throw new Error('--format must be generic or simbox');
  const plan = values['number-plan'] ?? (values.format === 'simbox' ? 'opaque' : 'e164');
  if (plan !== 'e164' && plan !== 'opaque') throw new Error('--number-plan must be e164 or opaque');
  const country = values['default-country']?.toUpperCase();
  if (country && !isKnownCountry(country))
    throw new Error(`--default-country ${country} is not an ISO 3166 country code with a numbering plan`);
  const p = new Pseudonymiser(readKey(values['key-file']), values['key-id']);
  const opts: ImportOptions = {
    columns: values.format === 'simbox' ? SIMBOX_COLUMNS : GENERIC_COLUMNS,
    numberPlan: plan,
    utcOffsetMinutes: Number(values['utc-offset-minutes']),
    callerCountry: values['caller-country'] ?? 'ZZ',
    defaultRegion: values['default-region'] ?? '000000',
    ...(country ? { defaultCountry: country } : {}),
  };
  const out: NodeJS.WritableStream = values.output ? createWriteStream(values.output) : process.stdout;
  const parser = createReadStream(values.input).pipe(
    parse({ columns: true, skip_empty_lines: true, trim: true }),
  );
  let rows = 0;
  let events = 0;
  const skipped = new Map<string, number>();
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    rows++;
    try {
      for (const e of cdrRowToEvents(row, p, opts)) {
        if (!out.write(JSON.stringify(e) + '\n'))
          await new Promise<void>((r) => out.once('drain', () => r()));
        events++;
      }
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      skipped.set(e.message, (skipped.get(e.message) ?? 0) + 1);
    }
    if (rows % 100_000 === 0) process.stderr.write(`pseudonymise: ${rows} rows, ${events} events\n`);
  }
  if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
  const skippedTotal = [...skipped.values()].reduce((a, b) => a + b, 0);
  process.stderr.write(
    `pseudonymise: ${rows} rows read, ${events} events written, ${skippedTotal} rows skipped\n`,
  );
  for (const [reason, n] of skipped) process.stderr.write(`  skipped ${n}: ${reason}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`pseudonymise: ${e.message}\n`);
    process.exit(1);
  },
);
