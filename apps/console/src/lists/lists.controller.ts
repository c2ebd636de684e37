import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from '@eagle-eye/config';
import { CARRIER_ID_SOURCE, PSEUDONYM_TOKEN } from '@eagle-eye/contracts';
import { containsClearNumber } from '@eagle-eye/pseudonym';
import {
  LIST_NAMES,
  ListEntry,
  ListName,
  RuleValidationError,
  RULE_CATALOG,
  RulesRepository,
} from '@eagle-eye/rules';
import { AlertsRepository } from '../alerts/alerts.repository';
import { AuditRepository } from '../audit/audit.repository';
import { can, carrierFilter, listScopes, mayReadListScope } from '../auth/access-policy';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { parseInput } from '../validation';

const scope = z
  .string()
  .regex(new RegExp(`^(\\*|${CARRIER_ID_SOURCE})$`), { message: "'*' or a carrier id" });
const reason = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .refine((t) => !containsClearNumber(t), { message: 'must not contain phone numbers' });
const listQuery = z.object({
  list: z.enum(LIST_NAMES as [ListName, ...ListName[]]).optional(),
  scope: scope.optional(),
  includeRemoved: z.enum(['true', 'false']).optional(),
  /** one number's entries (its pseudonym token, never a clear number) */
  numberToken: z.string().regex(PSEUDONYM_TOKEN, { message: 'must be a number token (p1.…)' }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const addBody = z.object({
  list: z.enum(LIST_NAMES as [ListName, ...ListName[]]),
  numberToken: z.string().min(1).max(64),
  scope: scope.default('*'),
  reason,
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
const removeBody = z.object({ numberToken: z.string().min(1).max(64), scope: scope.default('*'), reason });
const ruleBody = z.object({
  scope: scope.default('*'),
  enabled: z.boolean().optional(),
  reportOnly: z.boolean().optional(),
  points: z.number().int().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  reason,
});

/** The detector's lists and rules, through libs/rules (versioned, audited, mirrored to Redis). */
@ApiTags('lists and rules')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api')
export class ListsController {
  constructor(
    private readonly rules: RulesRepository,
    private readonly alerts: AlertsRepository,
    private readonly audit: AuditRepository,
  ) {}

  @Get('lists')
  @ApiOperation({
    summary: 'Black/gray/white list entries (carrier operators: global and their own carrier)',
  })
  async lists(@CurrentUser() p: Principal, @Query() query: unknown): Promise<ListEntry[]> {
    const q = parseInput(listQuery, query);
    if (!mayReadListScope(p, q.scope)) {
      throw new ForbiddenException('you see the global lists and your own carrier only');
    }
    const filter = {
      list: q.list,
      numberToken: q.numberToken,
      includeRemoved: q.includeRemoved === 'true',
      limit: q.limit,
    };
    let entries: ListEntry[];
    const scopes = q.scope === undefined ? listScopes(p) : null;
    if (scopes) {
      const parts = await Promise.all(
        [...new Set(scopes)].reverse().map((scope) => this.rules.listEntries({ ...filter, scope })),
      );
      entries = parts.flat();
    } else {
      entries = await this.rules.listEntries({ ...filter, scope: q.scope });
    }
    await this.audit.record(p, 'lists.read', 'number_list', null, { ...q, returned: entries.length });
    return entries;
  }

  @Post('lists')
  @Allow('lists.add')
  @ApiOperation({ summary: 'Add a number token to a list, with reason and optional expiry' })
  async add(@CurrentUser() p: Principal, @Body() body: unknown): Promise<ListEntry> {
    const b = parseInput(addBody, body);
    if (b.list === 'white' && !can(p, 'lists.add_white')) {
      throw new ForbiddenException(`role ${p.role} may add to the black and gray lists only`);
    }
    return this.ruleCall(() =>
      this.rules.addListEntry({
        ...b,
        expiresAt: b.expiresAt ? new Date(b.expiresAt) : null,
        actor: p.username,
        actorRole: p.role,
      }),
    );
  }

  @Delete('lists')
  @Allow('lists.remove')
  @ApiOperation({ summary: 'Remove a number token from its list in a scope, with a reason' })
  async remove(@CurrentUser() p: Principal, @Body() body: unknown): Promise<ListEntry> {
    const b = parseInput(removeBody, body);
    const removed = await this.ruleCall(() =>
      this.rules.removeListEntry({ ...b, actor: p.username, actorRole: p.role }),
    );
    if (!removed) throw new NotFoundException('no such entry in that scope');
    return removed;
  }

  @Get('lists/whitelist-candidates')
  @Allow('lists.whitelist_candidates')
  @ApiOperation({ summary: 'Numbers whose alerts were marked false positives: candidates for the whitelist' })
  async candidates(@CurrentUser() p: Principal): Promise<unknown[]> {
    const rows = await this.alerts.whitelistCandidates(carrierFilter(p));
    await this.audit.record(p, 'whitelist_candidates.read', 'number_list', null, { returned: rows.length });
    return rows;
  }

  @Get('rules')
  @Allow('rules.read')
  @ApiOperation({ summary: 'Detection rules in force: global and per-carrier overrides' })
  async ruleSet(@CurrentUser() p: Principal): Promise<unknown> {
    const set = await this.rules.getActiveRuleSet();
    await this.audit.record(p, 'rules.read', 'detection_rule', null, { version: set.version });
    return {
      version: set.version,
      catalog: Object.fromEntries(
        Object.entries(RULE_CATALOG).map(([id, r]) => [id, { description: r.description }]),
      ),
      global: Object.fromEntries(set.global),
      overrides: Object.fromEntries([...set.overrides].map(([c, m]) => [c, Object.fromEntries(m)])),
    };
  }

  @Get('rules/precision')
  @Allow('rules.read')
  @ApiOperation({ summary: 'Per rule: outcomes of the closed alerts it contributed to, and its precision' })
  async precision(@CurrentUser() p: Principal): Promise<unknown[]> {
    const rows = await this.alerts.rulePrecision();
    await this.audit.record(p, 'rules.precision_read', 'detection_rule', null);
    return rows;
  }

  @Get('rules/:ruleId/versions')
  @Allow('rules.read')
  @ApiOperation({ summary: 'Every version of one rule, newest first' })
  async versions(@CurrentUser() p: Principal, @Param('ruleId') ruleId: string): Promise<unknown[]> {
    if (!(ruleId in RULE_CATALOG)) throw new NotFoundException(`unknown rule ${ruleId}`);
    const rows = await this.rules.listVersions(ruleId);
    await this.audit.record(p, 'rules.versions_read', 'detection_rule', ruleId);
    return rows;
  }

  @Patch('rules/:ruleId')
  @Allow('rules.write')
  @ApiOperation({
    summary: 'New version of a rule (global or a carrier override): enabled, report-only, points, params',
  })
  async update(
    @CurrentUser() p: Principal,
    @Param('ruleId') ruleId: string,
    @Body() body: unknown,
  ): Promise<unknown> {
    const b = parseInput(ruleBody, body);
    return this.ruleCall(() => this.rules.updateRule({ ...b, ruleId, actor: p.username, actorRole: p.role }));
  }

  private async ruleCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof RuleValidationError) throw new BadRequestException(e.message);
      throw e;
    }
  }
}
