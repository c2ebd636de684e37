import { DynamicModule, Module } from '@nestjs/common';
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
import { WebUiController } from './web-ui.controller';

@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX }),
        DbModule.forRoot({ url: config.DATABASE_URL }),
        RulesModule,
      ],
      controllers: [
        AuthController,
        AlertsController,
        AdminController,
        ListsController,
        OpenApiController,
        WebUiController,
      ],
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
}
