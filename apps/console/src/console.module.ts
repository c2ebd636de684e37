import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import helmet from 'helmet';
import { DbModule } from '@eagle-eye/db';
import { ObservabilityModule, ReadinessRegistry } from '@eagle-eye/observability';
import { RedisModule } from '@eagle-eye/redis';
import { RulesModule } from '@eagle-eye/rules';
import { AdminController } from './admin/admin.controller';
import { DeadLettersController } from './admin/dead-letters.controller';
import { DeadLettersRepository } from './admin/dead-letters.repository';
import { UsersController } from './admin/users.controller';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsGateway } from './alerts/alerts.gateway';
import { AlertsRepository } from './alerts/alerts.repository';
import { AlertsService } from './alerts/alerts.service';
import { AuditRepository } from './audit/audit.repository';
import { BacktestsController } from './backtests/backtests.controller';
import { BacktestsRepository } from './backtests/backtests.repository';
import { AuthController } from './auth/auth.controller';
import { AuthGuard } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { UsersRepository } from './auth/users.repository';
import { PasswordHasher } from './auth/password-hasher';
import { SessionStore } from './auth/sessions';
import { ConsoleConfig, CONSOLE_CONFIG } from './config';
import { opsGuard } from './ops-guard';
import { CaseTimelineController } from './intel/case-timeline.controller';
import { CaseTimelineRepository } from './intel/case-timeline.repository';
import { IntelController } from './intel/intel.controller';
import { IntelRepository } from './intel/intel.repository';
import { ReportsController } from './reports/reports.controller';
import { ReportsRepository } from './reports/reports.repository';
import { ListsController } from './lists/lists.controller';
import { OpenApiController } from './openapi';
import { WebUiController } from './web-ui.controller';

/**
 * Security headers on every HTTP answer: a CSP allowing only the console's own files and
 * connections (the web UI has no inline script or style), no framing, nosniff, no referrer,
 * no X-Powered-By.
 */
export const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
  frameguard: { action: 'deny' },
});

@Module({})
export class ConsoleModule implements NestModule {
  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    private readonly readiness: ReadinessRegistry,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(securityHeaders).forRoutes('*');
    consumer.apply(opsGuard(this.config.CONSOLE_OPS_TOKEN, this.readiness)).forRoutes('*');
  }

  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [
        ObservabilityModule,
        RedisModule.forRoot({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          keyPrefix: config.REDIS_KEY_PREFIX,
          keyGroups: config.REDIS_KEY_GROUPS,
        }),
        DbModule.forRoot({ url: config.DATABASE_URL }),
        RulesModule,
      ],
      controllers: [
        AuthController,
        AlertsController,
        AdminController,
        DeadLettersController,
        UsersController,
        ListsController,
        IntelController,
        CaseTimelineController,
        ReportsController,
        BacktestsController,
        OpenApiController,
        WebUiController,
      ],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        AuthGuard,
        AuthService,
        PasswordHasher,
        SessionStore,
        UsersRepository,
        AuditRepository,
        DeadLettersRepository,
        BacktestsRepository,
        AlertsRepository,
        AlertsService,
        AlertsGateway,
        IntelRepository,
        CaseTimelineRepository,
        ReportsRepository,
      ],
    };
  }
}
