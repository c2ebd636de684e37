import { Controller, Get, Inject, NotFoundException, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { PSEUDONYM_TOKEN } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { AuditRepository } from '../audit/audit.repository';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { ConsoleConfig, CONSOLE_CONFIG } from '../config';
import { parseInput } from '../validation';
import { IntelRepository, NumberIntel, Overview } from './intel.repository';

const DAY = 86_400_000;
const overviewQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .transform((q) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY);
    return { from, to };
  })
  .refine((w) => w.from < w.to, { message: 'from must be before to' })
  .refine((w) => w.to.getTime() - w.from.getTime() <= 31 * DAY, { message: 'the window is at most 31 days' });
const tokenParam = z
  .string()
  .regex(PSEUDONYM_TOKEN, { message: 'must be a pseudonym token p1.<keyId>.<digest>' });

/**
 * Intelligence for supervisors and police: the situation by area, type and rule, and what the
 * alerts say about one number. Everything is limited to the reader's scope; every number lookup is
 * audited (who looked up which number, and whether anything was found).
 */
@ApiTags('intel')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api/intel')
export class IntelController {
  constructor(
    private readonly intel: IntelRepository,
    private readonly audit: AuditRepository,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  @Get('overview')
  @Allow('intel.overview')
  @ApiOperation({
    summary:
      'Alerts in your scope over a window (default the last 24 h, at most 31 days): by kind, severity, region, rule (with precision from recorded outcomes), hour and outcome',
  })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601 with offset' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601 with offset' })
  overview(@CurrentUser() p: Principal, @Query() query: unknown): Promise<Overview> {
    const w = parseInput(overviewQuery, query);
    return this.intel.overview(p, w.from, w.to, this.config.CONSOLE_TIME_ZONE);
  }

  @Get('numbers/:token')
  @ApiOperation({
    summary:
      "One number as your scope's alerts show it: reach, regions, hours, outcomes, list history, linked numbers, latest reasons (404 when none; every lookup audited)",
  })
  async number(@CurrentUser() p: Principal, @Param('token') token: string): Promise<NumberIntel> {
    const t = parseInput(tokenParam, token);
    const found = await this.intel.number(p, t, new Date(), this.config.CONSOLE_TIME_ZONE);
    await this.audit.record(p, 'intel.number_lookup', 'number', t, { found: !!found });
    if (!found) throw new NotFoundException('no alert in your scope names this number');
    return found;
  }
}
