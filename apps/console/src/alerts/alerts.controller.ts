import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AlertView, CARRIER_ID, PSEUDONYM_TOKEN, REGION } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { freeText, idParam, parseInput } from '../validation';
import { AlertDetail, AlertPage } from './alerts.repository';
import { AlertsService } from './alerts.service';

const STATES = ['open', 'claimed', 'escalated', 'closed'] as const;
const listQuery = z.object({
  state: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',') : undefined))
    .pipe(z.array(z.enum(STATES)).optional()),
  severity: z.enum(['warning', 'critical']).optional(),
  kind: z.enum(['victim_on_call', 'post_call', 'suspect_number']).optional(),
  region: z.string().regex(REGION).optional(),
  carrierId: z.string().regex(CARRIER_ID).optional(),
  /** a number's pseudonym token: alerts where it is the victim or the suspect (never a clear number) */
  number: z
    .string()
    .regex(PSEUDONYM_TOKEN, { message: 'must be a number token (p1.…), never a clear number' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100000).default(0),
});

const pageLimit = z.coerce.number().int().min(1).max(500).default(100);
const historyQuery = z.object({ beforeSeq: idParam.optional(), limit: pageLimit });
const notesQuery = z.object({ beforeId: idParam.optional(), limit: pageLimit });

const outcomeBody = z.object({
  outcome: z.enum(['dissuaded', 'victim_unreachable', 'false_positive', 'confirmed_fraud']),
  note: freeText(2000).optional(),
});
const escalateBody = z.object({ reason: freeText(500).default('escalated from the console') });
const noteBody = z.object({ text: freeText(2000) });

@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({ summary: 'Alerts in your scope, open first, then most severe and newest first (paged)' })
  @ApiQuery({ name: 'state', required: false, description: 'comma-separated: open,claimed,escalated,closed' })
  @ApiQuery({ name: 'severity', required: false })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'region', required: false })
  @ApiQuery({ name: 'carrierId', required: false })
  @ApiQuery({
    name: 'number',
    required: false,
    description: 'a number token: alerts with it as victim or suspect',
  })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'offset', required: false })
  list(@CurrentUser() p: Principal, @Query() query: unknown): Promise<AlertPage> {
    return this.alerts.list(p, parseInput(listQuery, query));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One alert with its history and notes (404 outside your scope)' })
  get(@CurrentUser() p: Principal, @Param('id') id: string): Promise<AlertDetail> {
    return this.alerts.get(p, parseInput(idParam, id));
  }

  @Get(':id/history')
  @ApiOperation({
    summary: "An alert's history entries older than beforeSeq, oldest first (paged; 404 outside your scope)",
  })
  @ApiQuery({ name: 'beforeSeq', required: false })
  @ApiQuery({ name: 'limit', required: false })
  history(@CurrentUser() p: Principal, @Param('id') id: string, @Query() query: unknown) {
    const q = parseInput(historyQuery, query);
    return this.alerts.page(p, parseInput(idParam, id), 'history', q.beforeSeq ?? null, q.limit);
  }

  @Get(':id/notes')
  @ApiOperation({
    summary: "An alert's notes older than beforeId, oldest first (paged; 404 outside your scope)",
  })
  @ApiQuery({ name: 'beforeId', required: false })
  @ApiQuery({ name: 'limit', required: false })
  notes(@CurrentUser() p: Principal, @Param('id') id: string, @Query() query: unknown) {
    const q = parseInput(notesQuery, query);
    return this.alerts.page(p, parseInput(idParam, id), 'notes', q.beforeId ?? null, q.limit);
  }

  @Post(':id/claim')
  @HttpCode(200)
  @Allow('alerts.work')
  @ApiOperation({ summary: 'Take the alert: you will call the victim (409 if someone else has it)' })
  claim(@CurrentUser() p: Principal, @Param('id') id: string): Promise<AlertView> {
    return this.alerts.claim(p, parseInput(idParam, id));
  }

  @Post(':id/outcome')
  @HttpCode(200)
  @Allow('alerts.work')
  @ApiOperation({
    summary: 'Record how it ended: dissuaded, victim_unreachable, false_positive, confirmed_fraud',
  })
  outcome(@CurrentUser() p: Principal, @Param('id') id: string, @Body() body: unknown): Promise<AlertView> {
    const b = parseInput(outcomeBody, body);
    return this.alerts.outcome(p, parseInput(idParam, id), b.outcome, b.note);
  }

  @Post(':id/escalate')
  @HttpCode(200)
  @Allow('alerts.escalate')
  @ApiOperation({ summary: 'Hand the alert to the police of its region' })
  escalate(@CurrentUser() p: Principal, @Param('id') id: string, @Body() body: unknown): Promise<AlertView> {
    return this.alerts.escalate(p, parseInput(idParam, id), parseInput(escalateBody, body).reason);
  }

  @Post(':id/notes')
  @Allow('alerts.work')
  @ApiOperation({ summary: 'Add a note (no phone numbers)' })
  note(@CurrentUser() p: Principal, @Param('id') id: string, @Body() body: unknown): Promise<{ id: string }> {
    return this.alerts.addNote(p, parseInput(idParam, id), parseInput(noteBody, body).text);
  }
}
