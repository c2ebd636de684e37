import { ConfigError } from './config-error';

/**
 * Values published in this repository (README, demo seed, tests, the development defaults): a
 * deployment with NODE_ENV=production that uses any of them is refused at start-up.
 * libs/db/src/demo-seed-guard.spec.ts checks the demo seed's secrets are all listed here.
 */
export const KNOWN_DEMO_VALUES: readonly string[] = [
  'eagleeye-dev', // the development database password (services.sh, the DATABASE_URL default)
  'eagleeye-app-dev', // the development app role's password (services.sh)
  'eagleeye-test-app', // the tests' app role's password (libs/testing)
  'demo-carrier-a-secret-0000000000000000',
  'demo-carrier-b-secret-0000000000000000',
  'e2e-console-secret-e2e-console-secret-000',
  'demo-operator-a',
  'demo-operator-b',
  'demo-officer',
  'demo-supervisor',
  'demo-admin',
];

/** Variable names whose values are never printed. */
export const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|API_KEY|(^|_)KEYS?$/i;

/** A value as it may appear in a message: secrets hidden, passwords in URLs masked. */
export function printable(name: string, value: string): string {
  if (SECRET_NAME.test(name)) return `(${value.length} characters, not shown)`;
  return JSON.stringify(maskUrlPasswords(value));
}

/** Replaces the password of every `scheme://user:password@host` in a string with `***`. */
export function maskUrlPasswords(s: string): string {
  return s.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, '$1***@');
}

/**
 * Set to `true` only for a throw-away stack run with NODE_ENV=production on demo data (load
 * tests, the production-install test): every production guard then only warns.
 */
export const ALLOW_DEMO_IN_PRODUCTION = 'EE_ALLOW_DEMO_IN_PRODUCTION';

/** True when NODE_ENV=production and the guards have not been switched off explicitly. */
export function productionGuarded(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'production' && env[ALLOW_DEMO_IN_PRODUCTION] !== 'true';
}

/**
 * Refuses (throws) a production start for the given problems, or only warns on stderr when
 * EE_ALLOW_DEMO_IN_PRODUCTION=true. Messages name variables and objects, never values.
 */
export function enforceProduction(problems: string[], env: NodeJS.ProcessEnv = process.env): void {
  if (!problems.length || env.NODE_ENV !== 'production') return;
  if (!productionGuarded(env)) {
    process.stderr.write(
      `WARNING: ${ALLOW_DEMO_IN_PRODUCTION}=true: starting in production despite: ${problems.join('; ')}\n`,
    );
    return;
  }
  throw new ProductionGuardError(problems);
}

/** A production start refused; a ConfigError, so apps exit with the configuration-error code. */
export class ProductionGuardError extends ConfigError {
  constructor(problems: string[]) {
    super(problems.map((p) => `refusing to start with NODE_ENV=production: ${p}`));
    this.name = 'ProductionGuardError';
  }
}

/**
 * What a production start must not have: any variable holding (or, for URLs, embedding) a known
 * demo value. Names only, never values.
 */
export function productionProblems(config: Record<string, unknown>): string[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  for (const [name, value] of Object.entries(config)) {
    if (typeof value !== 'string' || !value) continue;
    const hit = KNOWN_DEMO_VALUES.some((demo) => value === demo || value.includes(demo));
    if (hit)
      problems.push(
        `${name} holds a known demo value (published in the repository); set a secret of your own for production`,
      );
  }
  return problems;
}
