import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { ReadinessRegistry } from '@eagle-eye/observability';

export const INGEST_SERVICE_NAME = 'eagleeye.v1.CallRecordIngest';

/** proto/ of the repository this build came from (reflection serves its descriptors). */
export function findProtoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'proto/eagleeye/v1/ingest.proto'))) return join(dir, 'proto');
    dir = dirname(dir);
  }
  throw new Error(`proto/eagleeye/v1/ingest.proto not found above ${__dirname}`);
}

export interface GrpcHealth {
  stop(): void;
}

/**
 * grpc.health.v1 (SERVING only while every readiness check, Redis and Postgres, passes) and server
 * reflection (v1 and v1alpha) so grpcurl and similar tools work without the .proto files.
 */
export function addHealthAndReflection(
  server: Server,
  readiness: ReadinessRegistry,
  pollMs: number,
): GrpcHealth {
  const health = new HealthImplementation({ '': 'NOT_SERVING', [INGEST_SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  const protoRoot = findProtoRoot();
  const definition = loadSync([join(protoRoot, 'eagleeye/v1/ingest.proto'), healthProtoPath], {
    includeDirs: [protoRoot, dirname(healthProtoPath)],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  new ReflectionService(definition).addToServer(server);

  let stopped = false;
  const refresh = async (): Promise<void> => {
    const { ready } = await readiness.run();
    if (stopped) return;
    const s = ready ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    health.setStatus(INGEST_SERVICE_NAME, s);
  };
  void refresh();
  const timer = setInterval(() => void refresh(), pollMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(INGEST_SERVICE_NAME, 'NOT_SERVING');
    },
  };
}
