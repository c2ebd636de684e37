import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { AlertOutcome, AlertView } from '@eagle-eye/contracts';
import { RulesRepository, RuleValidationError } from '@eagle-eye/rules';
import { AuditRepository } from '../audit/audit.repository';
import { can, claimSide, mayEscalate, mayRecordOutcome } from '../auth/access-policy';
import { Principal } from '../auth/principal';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { consoleAlertActions } from '../console.metrics';
import {
  AlertDetail,
  AlertFilter,
  AlertPage,
  AlertsRepository,
  AlertTx,
  HistoryEntry,
  NoteEntry,
  ScopedRow,
} from './alerts.repository';
import { AlertsGateway } from './alerts.gateway';

/**
 * What people do with alerts: read, claim, record an outcome, escalate, note. Each action is one
 * transaction (row in scope, change seq, history, audit row), then the new state is pushed to the
 * rooms of the alert. Outcomes feed back: confirmed fraud blacklists the suspect (libs/rules),
 * a false positive makes it a whitelist candidate and counts against the rules that fired.
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger('AlertsService');

  constructor(
    private readonly repo: AlertsRepository,
    private readonly audit: AuditRepository,
    private readonly gateway: AlertsGateway,
    private readonly rules: RulesRepository,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  async list(p: Principal, f: AlertFilter): Promise<AlertPage> {
    const page = await this.repo.list(p, f);
    await this.audit.record(p, 'alerts.list', 'alert', null, {
      filter: { ...f },
      returned: page.items.map((a) => a.id),
    });
    return page;
  }

  /** Older history entries or notes of an alert in scope (404 outside it), audited like a view. */
  async page(
    p: Principal,
    id: string,
    what: 'history' | 'notes',
    before: string | null,
    limit: number,
  ): Promise<{ items: (HistoryEntry | NoteEntry)[]; more: boolean }> {
    if (!(await this.repo.inScope(p, id))) {
      await this.audit.record(p, 'alert.view_denied', 'alert', id);
      throw new NotFoundException(`alert ${id} not found`);
    }
    await this.audit.record(p, `alert.view_${what}`, 'alert', id, { before, limit });
    return what === 'history'
      ? this.repo.historyPage(id, before === null ? null : Number(before), limit)
      : this.repo.notesPage(id, before, limit);
  }

  async get(p: Principal, id: string): Promise<AlertDetail> {
    const alert = await this.repo.get(p, id);
    if (!alert) {
      await this.audit.record(p, 'alert.view_denied', 'alert', id);
      throw new NotFoundException(`alert ${id} not found`);
    }
    await this.audit.record(p, 'alert.view', 'alert', id, {
      carrierId: alert.carrierId,
      region: alert.region,
    });
    return alert;
  }

  /**
   * Claims the alert for the caller's side: the carrier desk's claim (state `claimed`) or, for an
   * officer, the police claim beside it. Someone else's claim on the same side is a 409.
   */
  async claim(p: Principal, id: string): Promise<AlertView> {
    const side = claimSide(p);
    return this.act(p, id, 'claim', async (row, tx) => {
      if (row.state === 'closed') throw new ConflictException(`alert ${id} is closed`);
      if (side === 'police') {
        if (row.police_claimed_by === p.username) return { audit: { side, already: true } };
        if (row.police_claimed_by)
          throw new ConflictException(
            `alert ${id} is already claimed for police by ${row.police_claimed_by}`,
          );
        await tx.claimForPolice();
        await tx.stamp('police_claimed', { by: p.username, role: p.role });
        return { audit: { side, from: row.state } };
      }
      if (row.state === 'claimed' && row.claimed_by === p.username) return { audit: { side, already: true } };
      if (row.state === 'claimed')
        throw new ConflictException(`alert ${id} is already claimed by ${row.claimed_by}`);
      await tx.claimForDesk();
      await tx.stamp('claimed', { by: p.username, role: p.role });
      return { audit: { side, from: row.state } };
    });
  }

  async outcome(p: Principal, id: string, outcome: AlertOutcome, note?: string): Promise<AlertView> {
    let suspect = '';
    const view = await this.act(p, id, 'outcome', async (row, tx) => {
      if (row.state === 'closed') throw new ConflictException(`alert ${id} already has an outcome`);
      if (!mayRecordOutcome(p, row))
        throw new ConflictException(`claim alert ${id} before recording an outcome`);
      await tx.close(outcome);
      if (note) await tx.addNote(note);
      if (outcome === 'false_positive') await tx.countFalsePositive(row.carrier_id, row.suspect);
      suspect = row.suspect;
      await tx.stamp('outcome', { outcome, by: p.username });
      return { audit: { outcome } };
    });
    if (outcome === 'confirmed_fraud') await this.blacklist(p, id, suspect);
    return view;
  }

  async escalate(p: Principal, id: string, reason: string): Promise<AlertView> {
    return this.act(p, id, 'escalate', async (row, tx) => {
      if (row.state === 'closed') throw new ConflictException(`alert ${id} is closed`);
      if (row.state === 'escalated') return { audit: { already: true } };
      // another person's claim is not dropped silently: only they (or a supervisor, recorded) may hand it on
      const { allowed, dropsClaimOf } = mayEscalate(p, row);
      if (!allowed)
        throw new ConflictException(
          `alert ${id} is claimed by ${dropsClaimOf}; only they or a supervisor may escalate it`,
        );
      await tx.escalate();
      const dropped = dropsClaimOf ? { droppedClaimOf: dropsClaimOf } : {};
      await tx.stamp('escalated', { by: p.username, reason, ...dropped });
      return { audit: { reason, ...dropped } };
    });
  }

  async addNote(p: Principal, id: string, text: string): Promise<{ id: string }> {
    const noteId = await this.repo.act(p, id, async (_row, tx) => {
      const noteId = await tx.addNote(text);
      await this.audit.record(p, 'alert.note', 'alert', id, { noteId }, tx.client);
      return noteId;
    });
    if (noteId === null) throw new NotFoundException(`alert ${id} not found`);
    consoleAlertActions.inc({ action: 'note' });
    return { id: noteId };
  }

  private async act(
    p: Principal,
    id: string,
    action: 'claim' | 'outcome' | 'escalate',
    fn: (row: ScopedRow, tx: AlertTx) => Promise<{ audit: Record<string, unknown> }>,
  ): Promise<AlertView> {
    if (!can(p, action === 'escalate' ? 'alerts.escalate' : 'alerts.work'))
      throw new ForbiddenException(`role ${p.role} may not ${action} alerts`);
    const view = await this.repo.act(p, id, async (row, tx) => {
      const { audit } = await fn(row, tx);
      await this.audit.record(p, `alert.${action}`, 'alert', id, audit, tx.client);
      return this.repo.viewOf(id, tx.client);
    });
    if (!view) {
      await this.audit.record(p, `alert.${action}_denied`, 'alert', id);
      throw new NotFoundException(`alert ${id} not found`);
    }
    consoleAlertActions.inc({ action });
    this.gateway.publish(view, false);
    return view;
  }

  private async blacklist(p: Principal, alertId: string, suspect: string): Promise<void> {
    try {
      await this.rules.addListEntry({
        list: 'black',
        numberToken: suspect,
        scope: '*',
        reason: `confirmed fraud on alert ${alertId}`,
        expiresAt: new Date(Date.now() + this.config.CONSOLE_CONFIRMED_FRAUD_BLACKLIST_DAYS * 86400_000),
        actor: p.username,
        actorRole: p.role,
      });
    } catch (e) {
      // already listed (black, or by hand on another list): the outcome stands, the list is left as is
      if (e instanceof RuleValidationError)
        this.logger.warn(`alert ${alertId}: suspect not blacklisted: ${e.message}`);
      else throw e;
    }
  }
}
