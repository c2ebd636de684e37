import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { baseSchema, ConfigError, loadConfig, z } from '@eagle-eye/config';
import { loggingModule } from './logging';
import { initDefaultMetrics } from './metrics';
import { initTracing, shutdownTracing } from './tracing';

/** The root of every app: its logger (nestjs-pino) beside the app's own module. */
@Module({})
class ServiceRoot {}

/** A dependency that cannot be reached at start-up; its message says what to do. */
export class DependencyUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyUnreachableError';
  }
}

export interface ServiceDefinition<S extends z.ZodObject> {
  /** service name, used in logs and metrics labels */
  name: string;
  schema: S;
  /** the root module, built from the validated config */
  module: (config: z.infer<S>) => DynamicModule;
  /** the HTTP port serving /healthz, /readyz, /metrics (and the app's own HTTP API) */
  httpPort: (config: z.infer<S>) => number;
  httpHost?: (config: z.infer<S>) => string;
  /** checks run before Nest starts, so an unreachable Redis is one clear line, not a retry loop */
  preflight?: (config: z.infer<S>) => Promise<void>;
  /** set-up that must happen before Nest initialises its modules (for example a WebSocket adapter) */
  beforeListen?: (app: INestApplication, config: z.infer<S>) => void;
  /** last steps once the HTTP server listens (for example start a gRPC server) */
  afterListen?: (app: INestApplication, config: z.infer<S>) => Promise<void>;
}

/**
 * The V8 settings of libs/config (V8_ALLOCATION_SITE_PRETENURING), applied before the process
 * allocates anything of its own: V8 reads the flag whenever a collection decides what to pretenure.
 */
export function applyV8Settings(
  config: Pick<z.infer<typeof baseSchema>, 'V8_ALLOCATION_SITE_PRETENURING'>,
): void {
  if (!config.V8_ALLOCATION_SITE_PRETENURING) setFlagsFromString('--no-allocation-site-pretenuring');
}

function fail(name: string, message: string, code: number): never {
  process.stderr.write(`[${name}] ${message}\n`);
  process.exit(code);
}

/**
 * Starts a service the same way everywhere: validate the environment before Nest exists, check
 * dependencies, pino logs (JSON, redacted, with trace ids), tracing, default process metrics, clean shutdown on SIGTERM/SIGINT with a
 * deadline so a stuck connection cannot keep a process alive.
 */
export async function runService<S extends z.ZodObject>(
  def: ServiceDefinition<S>,
): Promise<INestApplication> {
  let config: z.infer<S>;
  try {
    config = loadConfig(def.schema);
  } catch (e) {
    if (e instanceof ConfigError) fail(def.name, `configuration error: ${e.problems.join('; ')}`, 2);
    throw e;
  }
  const base = config as unknown as z.infer<typeof baseSchema>;
  applyV8Settings(base);
  try {
    await def.preflight?.(config);
  } catch (e) {
    if (e instanceof DependencyUnreachableError) fail(def.name, e.message, 3);
    throw e;
  }
  initDefaultMetrics(def.name);
  initTracing({ service: def.name, otlpEndpoint: base.OTEL_EXPORTER_OTLP_ENDPOINT });
  const root: DynamicModule = {
    module: ServiceRoot,
    imports: [loggingModule(def.name, base.LOG_LEVEL, base.LOG_FORMAT), def.module(config)],
  };
  const app = await NestFactory.create(root, { bufferLogs: true });
  const logger = app.get(PinoNestLogger);
  app.useLogger(logger);
  app.flushLogs();
  // Our own signal handling rather than Nest's enableShutdownHooks (which re-raises the signal):
  // close every module (consumers drain, connections close) and exit 0, or 1 past the deadline.
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      logger.log(`${sig} received, shutting down`, 'Bootstrap');
      setTimeout(() => {
        logger.error(`shutdown took longer than ${base.SHUTDOWN_TIMEOUT_MS} ms, exiting`, 'Bootstrap');
        process.exit(1);
      }, base.SHUTDOWN_TIMEOUT_MS).unref();
      app
        .close()
        .then(() => shutdownTracing().catch(() => undefined))
        .then(
          () => process.exit(0),
          (e: Error) => {
            logger.error(`shutdown failed: ${e.message}`, 'Bootstrap');
            process.exit(1);
          },
        );
    });
  }
  def.beforeListen?.(app, config);
  const port = def.httpPort(config);
  const host = def.httpHost?.(config) ?? '127.0.0.1';
  try {
    // the modules' start-up (scripts, rules, leases) first, so its failure is not taken for the port's
    await app.init();
  } catch (e) {
    fail(def.name, `cannot start: ${(e as Error).message}`, 4);
  }
  try {
    await app.listen(port, host);
  } catch (e) {
    fail(def.name, `cannot listen on ${host}:${port}: ${(e as Error).message}`, 4);
  }
  await def.afterListen?.(app, config);
  logger.log(`listening on http://${host}:${port} (/healthz /readyz /metrics)`, 'Bootstrap');
  return app;
}
