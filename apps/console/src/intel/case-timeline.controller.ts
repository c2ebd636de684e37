import { Controller, Get, NotFoundException, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from '@eagle-eye/config';
import { AuditRepository } from '../audit/audit.repository';
import { alertScopeSql } from '../auth/access-policy';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { parseInput } from '../validation';
import { CaseTimeline, CaseTimelineRepository } from './case-timeline.repository';

const idParam = z.string().regex(/^\d{1,18}$/, { message: 'must be an alert id' });
const timelineQuery = z.object({ hours: z.coerce.number().int().min(1).max(168).default(24) });

/**
 * A case file for one alert: its detection steps with the evidence kept at each (it outlives the
 * detector's Redis windows), the suspect's other alerted calls and the victim's calls from other
 * suspects around it. Only alerts, and nearby calls, in the reader's scope; every read is audited.
 */
@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api/alerts')
export class CaseTimelineController {
  constructor(
    private readonly timelines: CaseTimelineRepository,
    private readonly audit: AuditRepository,
  ) {}

  @Get(':id/timeline')
  @Allow('alerts.read')
  @ApiOperation({
    summary:
      "An alert's case timeline: detection steps with their evidence snapshots, the suspect's other alerted calls and the victim's calls from other suspects within `hours` (default 24, at most 168); 404 outside your scope; audited",
  })
  @ApiQuery({ name: 'hours', required: false })
  async timeline(
    @CurrentUser() p: Principal,
    @Param('id') id: string,
    @Query() query: unknown,
  ): Promise<CaseTimeline> {
    const alertId = parseInput(idParam, id);
    const { hours } = parseInput(timelineQuery, query);
    const t = await this.timelines.timeline(
      alertId,
      (params, alias) => alertScopeSql(p, params, alias),
      hours,
    );
    if (!t) {
      await this.audit.record(p, 'alert.timeline_denied', 'alert', alertId);
      throw new NotFoundException(`alert ${alertId} not found`);
    }
    await this.audit.record(p, 'alert.timeline', 'alert', alertId, {
      carrierId: t.alert.carrierId,
      region: t.alert.region,
      suspectCalls: t.suspectCalls.length,
      victimCalls: t.victimCalls.length,
      hours,
    });
    return t;
  }
}
