import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  NotFoundException,
  Param,
  Post,
  Query,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CARRIER_ID } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { CandidateChange, CandidateRulesError, parseCandidateChanges } from '@eagle-eye/rules';
import { containsClearNumber } from '@eagle-eye/pseudonym';
import { AuditRepository } from '../audit/audit.repository';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { idParam, parseInput } from '../validation';
import { BacktestDetail, BacktestsRepository, BacktestSummary } from './backtests.repository';

const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, {
    message: 'must be an ISO date-time with its zone, such as 2026-11-24T02:00:00Z',
  })
  .transform((s) => new Date(s));

/** At most a week: the hand-off streams retain far less, and one replay must stay bounded. */
const MAX_PERIOD_MS = 7 * 86400_000;

const backtestBody = z
  .object({
    from: isoTime,
    to: isoTime,
    carriers: z
      .array(z.string().regex(CARRIER_ID, { message: 'must be a carrier id' }))
      .max(50)
      .default([]),
    changes: z.array(z.unknown()).max(100).default([]),
    note: z
      .string()
      .trim()
      .max(500)
      .refine((t) => !containsClearNumber(t), { message: 'must not contain phone numbers' })
      .default(''),
  })
  .strict()
  .refine((b) => b.to.getTime() > b.from.getTime(), { message: 'to must be after from', path: ['to'] })
  .refine((b) => b.to.getTime() - b.from.getTime() <= MAX_PERIOD_MS, {
    message: 'the period must be at most 7 days',
    path: ['to'],
  });

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/**
 * Backtests from the console (README "Backtest"): a supervisor asks for one (the retained hand-off
 * streams replayed with the active rules plus candidate changes, compared with the alerts stored for
 * a period); the detector's backtest runner runs it and stores the report. A supervisor of one
 * carrier compares that carrier's alerts only and sees its own carrier's requests; every request
 * and every read of a report is audited.
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api/admin/backtests')
export class BacktestsController {
  constructor(
    private readonly backtests: BacktestsRepository,
    private readonly audit: AuditRepository,
  ) {}

  @Post()
  @Allow('backtests.run')
  @ApiOperation({
    summary:
      'Queue a backtest of the retained hand-off streams: the active rules plus candidate changes, ' +
      'compared with the alerts stored for a period (supervisor)',
  })
  async request(@CurrentUser() p: Principal, @Body() body: unknown): Promise<BacktestSummary> {
    const b = parseInput(backtestBody, body);
    let changes: CandidateChange[];
    try {
      changes = parseCandidateChanges(JSON.stringify(b.changes));
    } catch (e) {
      if (e instanceof CandidateRulesError) throw new UnprocessableEntityException(e.message);
      throw e;
    }
    let carriers = [...new Set(b.carriers)].sort();
    if (p.carrierId) {
      // a carrier's supervisor: its own carrier's alerts and rule overrides only
      if (carriers.some((c) => c !== p.carrierId))
        throw new ForbiddenException('a supervisor of one carrier backtests that carrier only');
      if (changes.some((c) => c.scope !== '*' && c.scope !== p.carrierId))
        throw new ForbiddenException('a supervisor of one carrier changes that carrier’s rules only');
      carriers = [p.carrierId];
    }
    const row = await this.backtests.create({
      requestedBy: p.username,
      carrierScope: p.carrierId,
      carriers,
      from: b.from,
      to: b.to,
      changes,
      note: b.note,
    });
    await this.audit.record(p, 'backtest.request', 'backtest', row.id, {
      from: row.from,
      to: row.to,
      carriers,
      changes,
    });
    return row;
  }

  @Get()
  @Allow('backtests.run')
  @ApiOperation({ summary: 'Backtests asked for, newest first, with their status and counts (supervisor)' })
  async list(@CurrentUser() p: Principal, @Query() query: unknown): Promise<BacktestSummary[]> {
    const q = parseInput(listQuery, query);
    const rows = await this.backtests.list(p.carrierId, q.limit);
    await this.audit.record(p, 'backtests.read', 'backtest', null, { count: rows.length });
    return rows;
  }

  @Get(':id')
  @Allow('backtests.run')
  @ApiOperation({ summary: 'One backtest with its report (supervisor)' })
  async detail(@CurrentUser() p: Principal, @Param('id') rawId: string): Promise<BacktestDetail> {
    const id = parseInput(idParam, rawId);
    const row = await this.backtests.get(p.carrierId, id);
    if (!row) throw new NotFoundException(`backtest ${id} not found`);
    await this.audit.record(p, 'backtest.read', 'backtest', id);
    return row;
  }
}
