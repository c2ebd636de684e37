import {
  Body,
  ConflictException,
  Controller,
  Get,
  NotFoundException,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CARRIER_ID, REGION } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { AlertsGateway } from '../alerts/alerts.gateway';
import { AuditRepository } from '../audit/audit.repository';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { PasswordHasher } from '../auth/password-hasher';
import { Principal, Role, ROLES } from '../auth/principal';
import { UserOut, UsersRepository } from '../auth/users.repository';
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
/** Console users: create, list, disable, reset a password, change regions (admin only, audited). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api')
export class UsersController {
  constructor(
    private readonly repo: UsersRepository,
    private readonly audit: AuditRepository,
    private readonly gateway: AlertsGateway,
    private readonly passwords: PasswordHasher,
  ) {}

  @Get('users')
  @Allow('users.manage')
  @ApiOperation({ summary: 'Console users (admin)' })
  async users(@CurrentUser() p: Principal): Promise<UserOut[]> {
    const rows = await this.repo.list();
    await this.audit.record(p, 'users.list', 'console_user', null);
    return rows;
  }

  @Post('users')
  @Allow('users.manage')
  @ApiOperation({ summary: 'Create a console user (admin)' })
  async createUser(@CurrentUser() p: Principal, @Body() body: unknown): Promise<UserOut> {
    const u = parseInput(newUser, body);
    try {
      const user = await this.repo.create({
        username: u.username,
        passwordHash: await this.passwords.hash(u.password),
        role: u.role as Role,
        carrierId: u.role === 'carrier_operator' ? (u.carrierId ?? null) : null,
        regions: u.role === 'police_officer' ? u.regions : [],
        displayName: u.displayName,
      });
      await this.audit.record(p, 'user.create', 'console_user', user.id, {
        username: u.username,
        role: u.role,
      });
      return user;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '23505') throw new ConflictException(`user ${u.username} exists`);
      if (code === '23503') throw new ConflictException(`carrier ${u.carrierId} does not exist`);
      throw e;
    }
  }

  @Patch('users/:id')
  @Allow('users.manage')
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
    const user = await this.repo.update(id, {
      disabled: b.disabled,
      passwordHash: b.password ? await this.passwords.hash(b.password) : undefined,
      regions: b.regions,
      displayName: b.displayName,
    });
    if (!user) throw new NotFoundException(`user ${id} not found`);
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
    return user;
  }
}
