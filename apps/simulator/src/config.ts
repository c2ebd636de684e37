import { baseSchema, env, z } from '@eagle-eye/config';

export const SimulatorConfigSchema = baseSchema.extend({
  SIMULATOR_HTTP_PORT: env.port(9105),
  SIMULATOR_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  SIMULATOR_INGEST_URL: env.string('127.0.0.1:50051'),
  /** idle: only health and metrics; demo: stream a live city until stopped */
  SIMULATOR_MODE: z.enum(['idle', 'demo']).default('idle'),
  SIMULATOR_SCENARIO: env.string('demo'),
  /**
   * demo: minutes of the city's recent traffic (scam numbers' fan-out included, nobody hooked)
   * streamed as fast as ingest takes it, in event time, before the live part: the history import a
   * real deployment starts from, so the detector knows the scam numbers when the first victim
   * answers. 0: start cold.
   */
  SIMULATOR_HISTORY_MINUTES: env.int(120, 0, 7 * 24 * 60),
  /** simulated seconds per wall second (1 = real time) */
  SIMULATOR_WARP: z.coerce.number().finite().min(1).max(10000).default(1),
  SIMULATOR_SUBSCRIBERS: env.int(200_000, 1000, 199_999_999),
  SIMULATOR_SEED: env.int(1, 0, 4294967295),
  /** `carrier-a=eek_...,carrier-b=eek_...`; the demo carriers' keys when unset */
  SIMULATOR_CARRIER_KEYS: z.string().optional(),
  /** JSON-lines ground truth of the demo (scam calls, scam numbers, hooked victims) */
  SIMULATOR_GROUND_TRUTH: z.string().optional(),
  /** plain progress lines (events/s, alerts, lag) for the demo terminal */
  SIMULATOR_PROGRESS_FILE: z.string().optional(),
  SIMULATOR_PROGRESS_MS: env.int(5000, 500, 600000),
  /** console the demo watches (as a supervisor) to count alerts in its progress line */
  SIMULATOR_CONSOLE_URL: env.url(['http', 'https'], 'http://127.0.0.1:8080'),
  SIMULATOR_CONSOLE_USER: env.string('supervisor'),
  SIMULATOR_CONSOLE_PASSWORD: env.string('demo-supervisor'),
  /** put the simulated verified service numbers (banks, hospitals, hotlines) on the whitelist */
  SIMULATOR_WHITELIST: env.bool(true),
});
export type SimulatorConfig = z.infer<typeof SimulatorConfigSchema>;
export const SIMULATOR_CONFIG = Symbol('SIMULATOR_CONFIG');
