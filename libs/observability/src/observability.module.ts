import { Global, Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { ReadinessRegistry } from './readiness';

/** /healthz, /readyz and /metrics, for every app (request ids and request logs: logging.ts). */
@Global()
@Module({
  controllers: [HealthController],
  providers: [ReadinessRegistry],
  exports: [ReadinessRegistry],
})
export class ObservabilityModule {}
