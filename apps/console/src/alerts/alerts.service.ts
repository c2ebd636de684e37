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
import { Principal } from '../auth/principal';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';
import { consoleAlertActions } from '../console.metrics';
import { PoolClient } from 'pg';
import {
  AlertDetail,
  AlertFilter,
  AlertPage,
  AlertsRepository,
  HistoryEntry,
  NoteEntry,
  ScopedRow,
} from './alerts.repository';

type Stamp = (action: string, detail: Record<string, unknown>) => Promise<number>;
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

  async claim(p: Principal, id: string): Promise<AlertView> {
    return this.act(p, id, 'claim', async (row, c, stamp) => {
      if (row.state === 'claimed' && row.claimed_by === p.username) return { audit: { already: true } };
      if (row.state === 'claimed')
        throw new ConflictException(`alert ${id} is already claimed by ${row.claimed_by}`);
      if (row.state === 'closed') throw new ConflictException(`alert ${id} is closed`);
      await c.query(
        `UPDATE alerts SET state = 'claimed', claimed_by = $2, claimed_at = now() WHERE id = $1`,
        [id, p.username],
      );
      await stamp('claimed', { by: p.username, role: p.role });
      return { audit: { from: row.state } };
    });
  }

  async outcome(p: Principal, id: string, outcome: AlertOutcome, note?: string): Promise<AlertView> {
    let suspect = '';
    const view = await this.act(p, id, 'outcome', async (row, c, stamp) => {
      if (row.state === 'closed') throw new ConflictException(`alert ${id} already has an outcome`);
      const mayOverride = p.role === 'supervisor';
      if (!(row.state === 'claimed' && row.claimed_by === p.username) && !mayOverride) {
        throw new ConflictException(`claim alert ${id} before recording an outcome`);
      }
      await c.query(
        `UPDATE alerts SET state = 'closed', outcome = $2, outcome_by = $3, outcome_at = now() WHERE id = $1`,
        [id, outcome, p.username],
      );
      if (note)
        await c.query('INSERT INTO alert_notes (alert_id, author, text) VALUES ($1, $2, $3)', [
          id,
          p.username,
          note,
        ]);
      if (outcome === 'false_positive') {
        await c.query(
          `INSERT INTO whitelist_candidates (carrier_id, suspect, last_alert_id) VALUES ($1, $2, $3)
           ON CONFLICT (carrier_id, suspect) DO UPDATE
             SET false_positives = whitelist_candidates.false_positives + 1, last_alert_id = $3, updated_at = now()`,
          [row.carrier_id, row.suspect, id],
        );
      }
      suspect = row.suspect;
      await stamp('outcome', { outcome, by: p.username });
      return { audit: { outcome } };
    });
    if (outcome === 'confirmed_fraud') await this.blacklist(p, id, suspect);
    return view;
  }

  async escalate(p: Principal, id: string, reason: string): Promise<AlertView> {
    return this.act(p, id, 'escalate', async (row, c, stamp) => {
      if (row.state === 'closed') throw new ConflictException(`alert ${id} is closed`);
      if (row.state === 'escalated') return { audit: { already: true } };
      // another person's claim is not dropped silently: only they (or a supervisor, recorded) may hand it on
      const heldBy = row.state === 'claimed' && row.claimed_by !== p.username ? row.claimed_by : null;
      if (heldBy && p.role !== 'supervisor')
        throw new ConflictException(
          `alert ${id} is claimed by ${heldBy}; only they or a supervisor may escalate it`,
        );
      await c.query(
        `UPDATE alerts SET state = 'escalated', police = true, police_reason = COALESCE(police_reason, 'escalated'),
                escalated_at = now(), claimed_by = NULL, claimed_at = NULL WHERE id = $1`,
        [id],
      );
      await stamp('escalated', { by: p.username, reason, ...(heldBy ? { droppedClaimOf: heldBy } : {}) });
      return { audit: { reason, ...(heldBy ? { droppedClaimOf: heldBy } : {}) } };
    });
  }

  async addNote(p: Principal, id: string, text: string): Promise<{ id: string }> {
    const noteId = await this.repo.act(p, id, async (_row, c) => {
      const { rows } = await c.query<{ id: string }>(
        'INSERT INTO alert_notes (alert_id, author, text) VALUES ($1, $2, $3) RETURNING id::text',
        [id, p.username, text],
      );
      await this.audit.record(p, 'alert.note', 'alert', id, { noteId: rows[0].id }, c);
      return rows[0].id;
    });
    if (noteId === null) throw new NotFoundException(`alert ${id} not found`);
    consoleAlertActions.inc({ action: 'note' });
    return { id: noteId };
  }

  private async act(
    p: Principal,
    id: string,
    action: 'claim' | 'outcome' | 'escalate',
    fn: (row: ScopedRow, c: PoolClient, stamp: Stamp) => Promise<{ audit: Record<string, unknown> }>,
  ): Promise<AlertView> {
    if (p.role === 'admin') throw new ForbiddenException('administrators do not work alerts');
    const view = await this.repo.act(p, id, async (row, c, stamp) => {
      const { audit } = await fn(row, c, stamp);
      await this.audit.record(p, `alert.${action}`, 'alert', id, audit, c);
      return this.repo.viewOf(id, c);
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
