import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { AlertWorkerConfigSchema } from '../../../apps/alert-worker/src/config';
import { ConsoleConfigSchema } from '../../../apps/console/src/config';
import { DetectorConfigSchema } from '../../../apps/detector/src/config';
import { IngestConfigSchema } from '../../../apps/ingest/src/config';
import { SimulatorConfigSchema } from '../../../apps/simulator/src/config';
import { loadConfig, migrationSchema } from './load-config';

const ROOT = join(__dirname, '..', '..', '..');

describe('.env files', () => {
  it('.env.example, copied to .env, is a valid configuration for every app and the migrations', () => {
    const vars = parseEnv(readFileSync(join(ROOT, '.env.example'), 'utf8')) as NodeJS.ProcessEnv;
    // the one secret without a default, which the example leaves to the user
    const env = { ...vars, CONSOLE_JWT_SECRET: vars.CONSOLE_JWT_SECRET || 'x'.repeat(48) };
    for (const schema of [
      IngestConfigSchema,
      DetectorConfigSchema,
      AlertWorkerConfigSchema,
      ConsoleConfigSchema,
      SimulatorConfigSchema,
      migrationSchema,
    ])
      expect(() => loadConfig(schema, env)).not.toThrow();
  });

  /** loadDotEnv (the build, as the apps run it) in a fresh node process: it reads once, into process.env */
  const run = (cwd: string, env: Record<string, string>): string =>
    execFileSync(
      process.execPath,
      [
        '-e',
        `const { loadDotEnv } = require(${JSON.stringify(join(ROOT, 'dist/libs/config/src/dotenv.js'))});
         try { const f = loadDotEnv(); console.log(JSON.stringify({ f: f ?? null, a: process.env.EE_A ?? null, b: process.env.EE_B ?? null })); }
         catch (e) { console.log(JSON.stringify({ error: e.message })); }`,
      ],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
    ).trim();

  it('fills in what the environment leaves unset, never overrides it, and can be named or skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ee-dotenv-'));
    try {
      writeFileSync(join(dir, '.env'), 'EE_A=from-file   # a comment\nEE_B="two words"\n');
      writeFileSync(join(dir, 'other.env'), 'EE_A=other\n');
      expect(JSON.parse(run(dir, {}))).toEqual({ f: join(dir, '.env'), a: 'from-file', b: 'two words' });
      expect(JSON.parse(run(dir, { EE_A: 'from-env' }))).toMatchObject({ a: 'from-env', b: 'two words' });
      expect(JSON.parse(run(dir, { EE_ENV_FILE: 'other.env' }))).toMatchObject({ a: 'other', b: null });
      expect(JSON.parse(run(dir, { EE_ENV_FILE: 'none' }))).toEqual({ f: null, a: null, b: null });
      expect(JSON.parse(run(dir, { EE_ENV_FILE: 'missing.env' })).error).toMatch(
        /EE_ENV_FILE names .*missing\.env, which does not exist/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
