import type { AlertDetail, AlertPage } from '../../src/alerts/alerts.repository';
import type { Principal } from '../../src/auth/principal';
import type { UiConfig } from '../../src/ui-config';
import type { ListEntry, RuleVersion } from '../../../../libs/rules/src/rules.repository';
import type { RuleConfig } from '../../../../libs/rules/src/rule-catalog';
import type { AlertsRepository } from '../../src/alerts/alerts.repository';
import type { DeadLettersController } from '../../src/admin/dead-letters.controller';

/** A server type as JSON carries it: Dates become ISO strings. */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

export type { AlertDetail, AlertPage, Principal, UiConfig };
export type ListRow = Wire<ListEntry>;
export type RulePrecision = Awaited<ReturnType<AlertsRepository['rulePrecision']>>[number];
export type WhitelistCandidate = Wire<Awaited<ReturnType<AlertsRepository['whitelistCandidates']>>[number]>;
export interface RuleSetView {
  version: number;
  catalog: Record<string, { description: string }>;
  global: Record<string, RuleConfig>;
}
export interface LoginReply {
  token: string;
  expiresIn: number;
  user: Principal;
}

/** An HTTP failure with the server's message (Nest: `message` is a string or a list). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function request<T>(
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const data = (await res.json().catch(() => ({}))) as { message?: string | string[] };
  if (!res.ok) {
    const m = Array.isArray(data.message) ? data.message.join('; ') : data.message || res.statusText;
    throw new ApiError(res.status, m);
  }
  return data as T;
}
export type { UserOut } from '../../src/auth/users.repository';
export type { AuditEntry } from '../../src/audit/audit.repository';
export type DeadLetterPage = Awaited<ReturnType<DeadLettersController['deadLetterList']>>;
export type { RetryResult as DeadLetterRetry } from '../../src/admin/dead-letters.repository';
export type RuleVersionRow = Wire<RuleVersion>;
export type { BacktestDetail, BacktestSummary } from '../../src/backtests/backtests.repository';
