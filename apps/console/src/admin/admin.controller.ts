import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from '@eagle-eye/config';
import { AuditEntry, AuditRepository } from '../audit/audit.repository';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { parseInput } from '../validation';

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

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api')
export class AdminController {
  constructor(private readonly audit: AuditRepository) {}

  @Get('audit')
  @Allow('audit.read')
  @ApiOperation({ summary: 'The audit log, newest first (supervisor, admin)' })
  async auditLog(@CurrentUser() p: Principal, @Query() query: unknown): Promise<AuditEntry[]> {
    const q = parseInput(auditQuery, query);
    const rows = await this.audit.list(q);
    await this.audit.record(p, 'audit.read', 'audit_log', null, { ...q });
    return rows;
  }
}
