import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import express from 'express';
import { DbModule } from '@eagle-eye/db';
import { ObservabilityModule } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { RulesModule } from '@eagle-eye/rules';
import { AdminController } from './admin/admin.controller';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsGateway } from './alerts/alerts.gateway';
import { AlertsRepository } from './alerts/alerts.repository';
import { AlertsService } from './alerts/alerts.service';
import { AuditRepository } from './audit/audit.repository';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { ConsoleConfig, CONSOLE_CONFIG } from './config';
import { ListsController } from './lists/lists.controller';
import { OpenApiController } from './openapi';

// The web UI's files stay in apps/console/public (no build step); found from source or from dist.
export const PUBLIC_DIR =
  [
    join(__dirname, '..', 'public'),
    join(__dirname, '..', '..', '..', '..', 'apps', 'console', 'public'),
  ].find((d) => existsSync(d)) ?? join(__dirname, '..', 'public');

@Module({})
export class ConsoleModule implements NestModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX }),
        DbModule.forRoot({ url: config.DATABASE_URL }),
        RulesModule,
      ],
      controllers: [AuthController, AlertsController, AdminController, ListsController, OpenApiController],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        AuthGuard,
        AuthService,
        AuditRepository,
        AlertsRepository,
        AlertsService,
        AlertsGateway,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 })).forRoutes('*path');
  }
}
