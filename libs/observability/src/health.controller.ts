import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { metricsRegistry } from './metrics';
import { ReadinessRegistry } from './readiness';

@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  /** Liveness: the process is up and its event loop answers. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: every dependency (Redis, Postgres, ...) answers. 503 otherwise. */
  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const result = await this.readiness.run();
    res
      .status(result.ready ? 200 : 503)
      .json({ status: result.ready ? 'ready' : 'not_ready', checks: result.checks });
  }

  @Get('metrics')
  @Header('Content-Type', metricsRegistry.contentType)
  async metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
