import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AlertWorkerConfigSchema } from '../apps/alert-worker/src/config';
import { ConsoleConfigSchema } from '../apps/console/src/config';
import { DetectorConfigSchema } from '../apps/detector/src/config';
import { IngestConfigSchema } from '../apps/ingest/src/config';
import { SimulatorConfigSchema } from '../apps/simulator/src/config';
import { baseSchema, migrationSchema, z } from '@eagle-eye/config';

/**
 * docs/configuration.md, generated from the zod schemas the apps validate their environment with
 * (names, defaults, accepted values) and the comments above each variable in the schema's source
 * file (meanings), so the reference cannot drift from the code: scripts/config-reference.spec.ts
 * fails when the committed file differs, and `npm run config:reference` rewrites it.
 */
export const REPO = join(__dirname, '..');
export const REFERENCE_FILE = join(REPO, 'docs/configuration.md');

const SOURCES: { title: string; file: string; schema: z.ZodObject; intro: string }[] = [
  {
    title: 'Every app',
    file: 'libs/config/src/load-config.ts',
    schema: baseSchema,
    intro: 'Read by every app (and by `npm run migrate`).',
  },
  {
    title: 'migrations',
    file: 'libs/config/src/load-config.ts',
    schema: migrationSchema,
    intro:
      '`npm run migrate`, the migration Job and the demo seed: migrations run as the owner, the apps connect as the app role (README "Security").',
  },
  { title: 'ingest', file: 'apps/ingest/src/config.ts', schema: IngestConfigSchema, intro: 'apps/ingest.' },
  {
    title: 'detector',
    file: 'apps/detector/src/config.ts',
    schema: DetectorConfigSchema,
    intro: 'apps/detector.',
  },
  {
    title: 'alert-worker',
    file: 'apps/alert-worker/src/config.ts',
    schema: AlertWorkerConfigSchema,
    intro: 'apps/alert-worker, retention included.',
  },
  {
    title: 'console',
    file: 'apps/console/src/config.ts',
    schema: ConsoleConfigSchema,
    intro: 'apps/console.',
  },
  {
    title: 'simulator',
    file: 'apps/simulator/src/config.ts',
    schema: SimulatorConfigSchema,
    intro: 'apps/simulator (demo traffic; not for production).',
  },
];

/** Meanings of variables whose schema carries no comment (the shared ones, the ports, ...). */
const MEANINGS: Record<string, string> = {
  REDIS_KEY_PREFIX: 'prefix of every Redis key (deployments sharing one Redis use different prefixes)',
  INGEST_GRPC_PORT: 'carrier gRPC endpoint (eagleeye.v1.CallRecordIngest, health, reflection)',
  INGEST_GRPC_HOST: 'address the gRPC server binds (`0.0.0.0` in containers)',
  CONSOLE_JWT_SECRET: 'signs console session tokens: 32+ random characters, a secret',
  CONSOLE_JWT_TTL_S: 'lifetime of a console session token, seconds',
  ALERT_WORKER_STALLED_INTERVAL_MS: 'how often BullMQ looks for jobs of dead workers',
  DETECTOR_DUE_SHARDS: 'shards of the duration-step schedule (calls in progress)',
  SIMULATOR_INGEST_URL: 'the ingest gRPC address the simulator streams to',
  SIMULATOR_SCENARIO: 'the scenario of the demo city',
  SIMULATOR_SUBSCRIBERS: 'subscribers of the simulated city',
  SIMULATOR_SEED: 'random seed (same seed, same city and calls)',
  SIMULATOR_PROGRESS_MS: 'how often a progress line is written',
  SIMULATOR_CONSOLE_USER: 'console user the demo signs in as to count alerts',
  SIMULATOR_CONSOLE_PASSWORD: 'its password',
  INGEST_TLS_KEY_FILE: 'PEM private key of INGEST_TLS_CERT_FILE',
  INGEST_TLS_CA_FILE: 'PEM CA that signs carrier client certificates (mtls)',
  CONSOLE_LOGIN_MAX_FAILS_PER_USER: 'failed sign-ins allowed per username within CONSOLE_LOGIN_WINDOW_S',

  NODE_ENV: 'run mode; `production` in deployments',
  LOG_LEVEL: 'lowest level logged',
  LOG_FORMAT:
    'JSON lines (for collectors) or readable lines (for a terminal; needs pino-pretty, a dev dependency, else JSON)',
  REDIS_URL: 'Redis: windows, hand-off streams, queues, socket.io fan-out (`redis://` or `rediss://`)',
  DATABASE_URL: 'PostgreSQL (`postgres://` or `postgresql://`)',
  SHUTDOWN_TIMEOUT_MS: 'on SIGTERM the app drains and exits 0, or exits 1 after this long',
};

type JsonProp = {
  default?: unknown;
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
};

/** The `/** ... *\/` comment right above `NAME:` in a schema's source file, as one line. */
export function commentsOf(source: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*([A-Z][A-Z0-9_]*)\s*:/g;
  for (const m of source.matchAll(re)) {
    const text = m[1]
      .split('\n')
      .map((l) => l.replace(/^\s*\*\s?/, '').trim())
      .filter(Boolean)
      .join(' ');
    out.set(m[2], text);
  }
  return out;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (v: unknown): string => `\`${String(v)}\``;

function defaultOf(name: string, p: JsonProp, required: boolean): string {
  if (required) return '**required**';
  if (p.default === undefined) return 'not set';
  let d = String(p.default);
  // a default computed from the machine (the detector's consumer name) is shown as its recipe
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  if (host && d.startsWith(host)) d = `<host name>${d.slice(host.length)}`;
  return d === '' ? '`""`' : code(d);
}

function valuesOf(p: JsonProp): string {
  if (p.enum) return p.enum.map(code).join(', ');
  if (p.type === 'integer' || p.type === 'number') {
    const kind = p.type === 'integer' ? 'integer' : 'number';
    if (p.minimum !== undefined && p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER) {
      return `${kind} ${p.minimum}–${p.maximum}`;
    }
    return p.minimum !== undefined ? `${kind} ≥ ${p.minimum}` : kind;
  }
  if (p.pattern) return `text matching ${code(p.pattern)}`;
  if (p.minLength) return p.minLength > 1 ? `text, ${p.minLength}+ characters` : 'text';
  return 'text';
}

export function renderConfigReference(): string {
  const lines: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run config:reference` from the zod schemas in libs/config and apps/*/src/config.ts;',
    '     do not edit by hand (npm test fails when this file and the schemas differ). -->',
    '',
    'Every app reads its environment once at start, validates it against its schema and stops with one',
    'line naming every bad or missing variable (exit code 2). Unknown variables are ignored.',
    '`.env.example` lists the same variables for local use; in Kubernetes they come from the',
    '`eagle-eye-config` ConfigMap and the `eagle-eye-secrets` Secret (deploy/k8s).',
    '',
  ];
  const base = new Set(Object.keys(baseSchema.shape));
  for (const s of SOURCES) {
    const json = z.toJSONSchema(s.schema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, JsonProp>;
      required?: string[];
    };
    const comments = commentsOf(readFileSync(join(REPO, s.file), 'utf8'));
    lines.push(`## ${s.title}`, '', `${s.intro} Schema: \`${s.file}\`.`, '');
    lines.push('| variable | default | accepted values | meaning |', '| --- | --- | --- | --- |');
    for (const [name, prop] of Object.entries(json.properties)) {
      if (s.schema !== baseSchema && base.has(name)) continue;
      const meaning =
        comments.get(name) ??
        MEANINGS[name] ??
        (name.endsWith('_HTTP_PORT')
          ? `HTTP port of /healthz, /readyz, /metrics${name.startsWith('CONSOLE') ? ', the API and the web UI' : ''}`
          : name.endsWith('_HTTP_HOST')
            ? 'address the HTTP server binds (`0.0.0.0` in containers)'
            : '');
      const required = (json.required ?? []).includes(name);
      lines.push(
        `| \`${name}\` | ${cell(defaultOf(name, prop, required))} | ${cell(valuesOf(prop))} | ${cell(meaning)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
