import {
  Body,
  ConflictException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  OnApplicationShutdown,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { ALERTS_DEAD_LETTER_QUEUE, CARRIER_ID, DeadLetterJob, REGION } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { PG_POOL } from '@eagle-eye/db';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { AlertsGateway } from '../alerts/alerts.gateway';
import { AuditEntry, AuditRepository } from '../audit/audit.repository';
import { AuthGuard, CurrentUser, Roles } from '../auth/auth.guard';
import { PasswordHasher } from '../auth/password-hasher';
import { Principal, ROLES } from '../auth/principal';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { idParam, parseInput } from '../validation';

const region = z.string().regex(REGION);
const newUser = z
  .object({
    username: z.string().regex(/^[a-z0-9._-]{3,64}$/, { message: '3-64 of a-z 0-9 . _ -' }),
    password: z.string().min(10).max(200),
    role: z.enum(ROLES as [string, ...string[]]),
    carrierId: z.string().regex(CARRIER_ID).optional(),
    regions: z.array(region).max(100).default([]),
    displayName: z.string().max(100).default(''),
  })
  .refine((u) => u.role !== 'carrier_operator' || u.carrierId, {
    message: 'a carrier operator needs carrierId',
  })
  .refine((u) => u.role !== 'police_officer' || u.regions.length > 0, {
    message: 'a police officer needs regions',
  });
const patchUser = z.object({
  disabled: z.boolean().optional(),
  password: z.string().min(10).max(200).optional(),
  regions: z.array(region).min(1).max(100).optional(),
  displayName: z.string().max(100).optional(),
});
const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional(),
  actor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  objectId: z.string().max(128).optional(),
});

export interface UserOut {
  id: string;
  username: string;
  role: string;
  carrierId: string | null;
  regions: string[];
  displayName: string;
  disabled: boolean;
}
const USER_COLS = `id::text, username, role, carrier_id AS "carrierId", regions, display_name AS "displayName", disabled`;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api')
export class AdminController implements OnApplicationShutdown {
  private readonly deadLetters: Queue;
  private readonly connection: Redis;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly audit: AuditRepository,
    private readonly gateway: AlertsGateway,
    private readonly passwords: PasswordHasher,
    @Inject(CONSOLE_CONFIG) config: ConsoleConfig,
    keys: RedisKeys,
  ) {
    const connection = (this.connection = createRedis(config.REDIS_URL, {
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
    }));
    connection.on('error', () => undefined);
    this.deadLetters = new Queue(ALERTS_DEAD_LETTER_QUEUE, { connection, prefix: keys.bullPrefix() });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.deadLetters.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  @Get('users')
  @Roles('admin')
  @ApiOperation({ summary: 'Console users (admin)' })
  async users(@CurrentUser() p: Principal): Promise<UserOut[]> {
    const { rows } = await this.pool.query<UserOut>(
      `SELECT ${USER_COLS} FROM console_users ORDER BY username`,
    );
    await this.audit.record(p, 'users.list', 'console_user', null);
    return rows;
  }

  @Post('users')
  @Roles('admin')
  @ApiOperation({ summary: 'Create a console user (admin)' })
  async createUser(@CurrentUser() p: Principal, @Body() body: unknown): Promise<UserOut> {
    const u = parseInput(newUser, body);
    try {
      const { rows } = await this.pool.query<UserOut>(
        `INSERT INTO console_users (username, password_hash, role, carrier_id, regions, display_name)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLS}`,
        [
          u.username,
          await this.passwords.hash(u.password),
          u.role,
          u.role === 'carrier_operator' ? u.carrierId : null,
          u.role === 'police_officer' ? u.regions : [],
          u.displayName,
        ],
      );
      await this.audit.record(p, 'user.create', 'console_user', rows[0].id, {
        username: u.username,
        role: u.role,
      });
      return rows[0];
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '23505') throw new ConflictException(`user ${u.username} exists`);
      if (code === '23503') throw new ConflictException(`carrier ${u.carrierId} does not exist`);
      throw e;
    }
  }

  @Patch('users/:id')
  @Roles('admin')
  @ApiOperation({
    summary:
      'Disable or enable a user, reset a password, change regions (admin). Disabling or a password reset ends ' +
      "every session of the user; any change closes the user's live connections at once",
  })
  async patchUser(
    @CurrentUser() p: Principal,
    @Param('id') rawId: string,
    @Body() body: unknown,
  ): Promise<UserOut> {
    const id = parseInput(idParam, rawId);
    const b = parseInput(patchUser, body);
    const { rows } = await this.pool.query<UserOut>(
      `UPDATE console_users SET disabled = COALESCE($2, disabled), password_hash = COALESCE($3, password_hash),
              regions = CASE WHEN role = 'police_officer' THEN COALESCE($4, regions) ELSE regions END,
              display_name = COALESCE($5, display_name),
              token_version = token_version + CASE WHEN $2 IS TRUE OR $3::text IS NOT NULL THEN 1 ELSE 0 END
        WHERE id = $1 RETURNING ${USER_COLS}`,
      [
        id,
        b.disabled ?? null,
        b.password ? await this.passwords.hash(b.password) : null,
        b.regions ?? null,
        b.displayName ?? null,
      ],
    );
    if (!rows[0]) throw new NotFoundException(`user ${id} not found`);
    await this.audit.record(p, 'user.update', 'console_user', id, {
      disabled: b.disabled,
      passwordReset: b.password !== undefined,
      regions: b.regions,
    });
    if (b.disabled === true || b.password !== undefined || b.regions !== undefined)
      this.gateway.endSessions(
        { userId: id },
        b.disabled ? 'user disabled' : b.password !== undefined ? 'password reset' : 'scope changed',
      );
    return rows[0];
  }

  @Get('audit')
  @Roles('supervisor', 'admin')
  @ApiOperation({ summary: 'The audit log, newest first (supervisor, admin)' })
  async auditLog(@CurrentUser() p: Principal, @Query() query: unknown): Promise<AuditEntry[]> {
    const q = parseInput(auditQuery, query);
    const rows = await this.audit.list(q);
    await this.audit.record(p, 'audit.read', 'audit_log', null, { ...q });
    return rows;
  }

  @Get('admin/dead-letters')
  @Roles('admin')
  @ApiOperation({ summary: 'Alert jobs that failed every attempt (admin, for SREs)' })
  async deadLetterList(
    @CurrentUser() p: Principal,
  ): Promise<{ total: number; items: (DeadLetterJob & { id: string })[] }> {
    const [counts, jobs] = await Promise.all([
      this.deadLetters.getJobCounts('waiting'),
      this.deadLetters.getJobs(['waiting'], 0, 99),
    ]);
    await this.audit.record(p, 'dead_letters.read', 'queue', ALERTS_DEAD_LETTER_QUEUE);
    return {
      total: counts.waiting ?? 0,
      items: jobs.map((j) => ({ id: String(j.id), ...(j.data as DeadLetterJob) })),
    };
  }
}
