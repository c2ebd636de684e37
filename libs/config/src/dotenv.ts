import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config-error';

/**
 * Local configuration from a `.env` file (the format of `.env.example`): `EE_ENV_FILE`, else `.env`
 * in the working directory, when it exists; `EE_ENV_FILE=none` skips it. Variables already set in
 * the environment win over the file (Kubernetes, the scripts, the shell). Read once per process,
 * before the configuration is validated. Returns the file read, if any.
 */
let done = false;
export function loadDotEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (done) return undefined;
  done = true;
  const named = env.EE_ENV_FILE;
  if (named === 'none') return undefined;
  const file = resolve(named || '.env');
  if (!existsSync(file)) {
    if (named) throw new ConfigError([`EE_ENV_FILE names ${file}, which does not exist`]);
    return undefined;
  }
  try {
    process.loadEnvFile(file);
  } catch (e) {
    throw new ConfigError([`cannot read ${file} (EE_ENV_FILE): ${(e as Error).message}`]);
  }
  return file;
}
