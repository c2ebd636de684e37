import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { CARRIER_ID, PSEUDONYM_TOKEN, REGION } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { classifyPseudonym, idLooksLikeNumber } from '@eagle-eye/pseudonym';
import { REDIS, RedisKeys } from '@eagle-eye/redis';
import { RulesRepository, RuleValidationError } from '@eagle-eye/rules';
import { AuditRepository } from '../audit/audit.repository';
import { Allow, AuthGuard, CurrentUser, Public } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { ConsoleConfig, CONSOLE_CONFIG } from '../config';
import { freeText, parseInput } from '../validation';
import { REPORT_CATEGORIES, ReportedNumber, ReportRow, ReportsRepository } from './reports.repository';

const DAY = 86_400_000;
const PARTNER_KEY = /^Bearer erk_([A-Za-z0-9]{1,64})_(\S{1,256})$/;
const reportBody = z.object({
  reporter: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, {
      message: "must be the partner's opaque id of the person (1-64 of A-Z a-z 0-9 . _ : -)",
    })
    .refine((r) => !idLooksLikeNumber(r), { message: 'must not be or contain a phone number' }),
  number: z.string().superRefine((v, ctx) => {
    const verdict = classifyPseudonym(v);
    if (verdict !== 'ok')
      ctx.addIssue({
        code: 'custom',
        message:
          verdict === 'clear_number'
            ? 'must be the pseudonym token of the number, never the number itself'
            : 'must be a pseudonym token p1.<keyId>.<digest>',
      });
  }),
  category: z.enum(REPORT_CATEGORIES),
  evidence: freeText(2000).optional(),
  region: z.string().regex(REGION).optional(),
});
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100000).default(0),
});
const tokenParam = z
  .string()
  .regex(PSEUDONYM_TOKEN, { message: 'must be a pseudonym token p1.<keyId>.<digest>' });
const reviewBody = z.object({ note: freeText(200) });
const partnerBody = z.object({ id: z.string().regex(CARRIER_ID), name: z.string().trim().min(1).max(100) });

/**
 * Reports of fraud numbers from partner apps, and their review. Partners send reports with their
 * own API key (POST /api/reports, `authorization: Bearer erk_<keyId>_<secret>`); enough distinct
 * reporters graylist the number with an expiry; supervisors confirm (blacklist) or dismiss.
 */
@ApiTags('reports')
@UseGuards(AuthGuard)
@Controller('api')
export class ReportsController {
  private readonly limiter: RateLimiterRedis;

  constructor(
    private readonly reports: ReportsRepository,
    private readonly rules: RulesRepository,
    private readonly audit: AuditRepository,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(REDIS) redis: Redis,
    keys: RedisKeys,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${keys.prefix}:console:reports-per-key`,
      points: config.REPORTS_PER_PARTNER_PER_MINUTE,
      duration: 60,
    });
  }

  @Public()
  @Post('reports')
  @ApiOperation({
    summary:
      'A partner app reports a number (pseudonym token only) with category and evidence; once per reporter; enough distinct reporters graylist it (authorization: Bearer erk_<keyId>_<secret>; 429 over the rate)',
  })
  async report(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Body() body: unknown) {
    const m = PARTNER_KEY.exec(req.header('authorization') ?? '');
    if (!m) throw new UnauthorizedException('authorization must be "Bearer erk_<keyId>_<secret>"');
    const partnerId = await this.reports.partnerForKey(m[1], m[2]);
    if (!partnerId) throw new UnauthorizedException('invalid partner API key');
    try {
      await this.limiter.consume(m[1]);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      throw new HttpException('too many reports from this key; retry later', HttpStatus.TOO_MANY_REQUESTS);
    }
    const b = parseInput(reportBody, body);
    const saved = await this.reports.add({
      partnerId,
      reporter: b.reporter,
      numberToken: b.number,
      category: b.category,
      ...(b.evidence ? { evidence: b.evidence } : {}),
      ...(b.region ? { region: b.region } : {}),
    });
    let graylisted = false;
    if (!saved.duplicate && saved.reporters >= this.config.REPORTS_GRAYLIST_REPORTERS)
      graylisted = await this.graylist(b.number, saved.reporters, partnerId);
    res.status(saved.duplicate ? 200 : 201);
    return { id: saved.id, duplicate: saved.duplicate, reporters: saved.reporters, graylisted };
  }

  /** Graylists a reported number unless it is already on a global list (black, gray or white). */
  private async graylist(numberToken: string, reporters: number, partnerId: string): Promise<boolean> {
    const live = await this.rules.listEntries({ numberToken, scope: '*' });
    if (live.length) return false;
    try {
      await this.rules.addListEntry({
        list: 'gray',
        numberToken,
        scope: '*',
        reason: `reported by ${reporters} people through partner apps (pending review)`,
        expiresAt: new Date(Date.now() + this.config.REPORTS_GRAYLIST_DAYS * DAY),
        actor: `reports:${partnerId}`,
        actorRole: 'partner',
      });
      return true;
    } catch (e) {
      if (e instanceof RuleValidationError) return false; // listed meanwhile by another request
      throw e;
    }
  }

  @ApiBearerAuth()
  @Get('reports')
  @Allow('reports.read')
  @ApiOperation({ summary: 'The review queue: numbers with pending reports, most reporters first (paged)' })
  async queue(
    @CurrentUser() p: Principal,
    @Query() query: unknown,
  ): Promise<{ items: ReportedNumber[]; total: number }> {
    const q = parseInput(pageQuery, query);
    const page = await this.reports.pending(q.limit, q.offset);
    await this.audit.record(p, 'reports.read', 'number_report', null, { returned: page.items.length });
    return page;
  }

  @ApiBearerAuth()
  @Get('reports/numbers/:token')
  @Allow('reports.read')
  @ApiOperation({ summary: "One number's reports with their evidence" })
  async forNumber(@CurrentUser() p: Principal, @Param('token') token: string): Promise<ReportRow[]> {
    const t = parseInput(tokenParam, token);
    const rows = await this.reports.forNumber(t);
    await this.audit.record(p, 'reports.read_number', 'number', t, { returned: rows.length });
    if (!rows.length) throw new NotFoundException('no reports name this number');
    return rows;
  }

  @ApiBearerAuth()
  @Post('reports/numbers/:token/confirm')
  @HttpCode(200)
  @Allow('reports.review')
  @ApiOperation({
    summary:
      'Confirm the reports: the number goes on the global blacklist (replacing a graylisting) for the confirmed-fraud period',
  })
  async confirm(@CurrentUser() p: Principal, @Param('token') token: string, @Body() body: unknown) {
    const t = parseInput(tokenParam, token);
    const { note } = parseInput(reviewBody, body);
    const live = await this.rules.listEntries({ numberToken: t, scope: '*' });
    if (live.some((e) => e.list === 'white'))
      throw new ConflictException('the number is whitelisted: remove it from the whitelist first');
    const actor = { actor: p.username, actorRole: p.role };
    if (live.some((e) => e.list === 'gray'))
      await this.rules.removeListEntry({
        ...actor,
        numberToken: t,
        scope: '*',
        reason: `confirmed from reports: ${note}`,
      });
    if (!live.some((e) => e.list === 'black'))
      await this.rules.addListEntry({
        ...actor,
        list: 'black',
        numberToken: t,
        scope: '*',
        reason: `confirmed from reports: ${note}`.slice(0, 200),
        expiresAt: new Date(Date.now() + this.config.CONSOLE_CONFIRMED_FRAUD_BLACKLIST_DAYS * DAY),
      });
    const reviewed = await this.reports.review(t, 'confirmed', p.username);
    await this.audit.record(p, 'reports.confirm', 'number', t, { reviewed, note });
    return { reviewed, list: 'black' };
  }

  @ApiBearerAuth()
  @Post('reports/numbers/:token/dismiss')
  @HttpCode(200)
  @Allow('reports.review')
  @ApiOperation({ summary: 'Dismiss the reports: a graylisting they caused is lifted' })
  async dismiss(@CurrentUser() p: Principal, @Param('token') token: string, @Body() body: unknown) {
    const t = parseInput(tokenParam, token);
    const { note } = parseInput(reviewBody, body);
    const live = await this.rules.listEntries({ numberToken: t, scope: '*' });
    let lifted = false;
    if (live.some((e) => e.list === 'gray' && e.addedBy.startsWith('reports:'))) {
      await this.rules.removeListEntry({
        actor: p.username,
        actorRole: p.role,
        numberToken: t,
        scope: '*',
        reason: `reports dismissed: ${note}`,
      });
      lifted = true;
    }
    const reviewed = await this.reports.review(t, 'dismissed', p.username);
    await this.audit.record(p, 'reports.dismiss', 'number', t, { reviewed, lifted, note });
    return { reviewed, graylistLifted: lifted };
  }

  @ApiBearerAuth()
  @Post('report-partners')
  @Allow('report_partners.manage')
  @ApiOperation({ summary: 'Register a partner app; its API key is shown once' })
  async createPartner(@CurrentUser() p: Principal, @Body() body: unknown) {
    const b = parseInput(partnerBody, body);
    try {
      const key = await this.reports.createPartner(b.id, b.name, p.username);
      await this.audit.record(p, 'report_partner.create', 'report_partner', b.id, { keyId: key.keyId });
      return { partnerId: b.id, ...key };
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new ConflictException(`partner ${b.id} exists`);
      throw e;
    }
  }

  @ApiBearerAuth()
  @Post('report-partners/keys/:keyId/revoke')
  @HttpCode(200)
  @Allow('report_partners.manage')
  @ApiOperation({ summary: "Revoke a partner's API key" })
  async revoke(@CurrentUser() p: Principal, @Param('keyId') keyId: string) {
    const id = parseInput(z.string().regex(/^[A-Za-z0-9]{1,64}$/), keyId);
    if (!(await this.reports.revokeKey(id))) throw new NotFoundException('no live key with that id');
    await this.audit.record(p, 'report_partner.revoke_key', 'report_partner_key', id);
    return { revoked: id };
  }
}
