import { Client, Pool, PoolClient } from 'pg';

/**
 * The apps connect as a role that owns nothing (README "Security": database roles). Migrations run
 * as the owner of the schema; afterwards `grantAppRole` gives the app role exactly what the apps
 * use: rows of the working tables, and on the records of what happened (audit log, alert history
 * and notes, rule and model versions) only SELECT and INSERT. Without ownership the role can neither
 * TRUNCATE, ALTER nor drop or disable the append-only triggers; the retention purge reaches old rows
 * through `retention_purge_batch` alone (SECURITY DEFINER, floors in `retention_floors`).
 */

/** Tables the app role may read and append to, never change or delete from. */
export const APPEND_ONLY_TABLES = [
  'audit_log',
  'alert_history',
  'alert_notes',
  'alert_evidence',
  'detection_rule_versions',
  'caller_models',
] as const;
/** Tables the app role may only read. */
export const READ_ONLY_TABLES = ['schema_migrations', 'retention_floors'] as const;

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

function ident(kind: string, name: string): string {
  if (!IDENT.test(name)) throw new Error(`${kind} ${JSON.stringify(name)} must match ${IDENT.source}`);
  return name;
}

type Queryable = Pool | PoolClient | Client;

/** Grants the app role its privileges on `schema` (idempotent: it revokes first). */
export async function grantAppRole(db: Queryable, role: string, schema = 'public'): Promise<void> {
  const r = ident('app role', role);
  const s = ident('schema', schema);
  const { rows } = await db.query<{ rolsuper: boolean; is_owner: boolean }>(
    `SELECT rolsuper, rolname = current_user AS is_owner FROM pg_roles WHERE rolname = $1`,
    [role],
  );
  if (!rows.length) {
    throw new Error(
      `the app role ${role} (DATABASE_APP_ROLE) does not exist: create it first, e.g. CREATE ROLE ${role} LOGIN PASSWORD '…'`,
    );
  }
  if (rows[0].rolsuper || rows[0].is_owner) {
    throw new Error(
      `the app role ${role} must be neither a superuser nor the role that runs the migrations (it would own the tables)`,
    );
  }
  const appendOnly = APPEND_ONLY_TABLES.map((t) => `${s}.${t}`).join(', ');
  const readOnly = READ_ONLY_TABLES.map((t) => `${s}.${t}`).join(', ');
  await db.query(
    [
      `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${r}`,
      `REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${s} FROM ${r}`,
      `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
      `REVOKE UPDATE, DELETE ON ${appendOnly} FROM ${r}`,
      `REVOKE INSERT, UPDATE, DELETE ON ${readOnly} FROM ${r}`,
      `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
      `GRANT EXECUTE ON FUNCTION ${s}.retention_purge_batch(text, timestamptz, integer) TO ${r}`,
    ].join(';\n'),
  );
}

/**
 * What makes the connected role unfit for an app in production: a superuser, the owner of the
 * tables, or any role that can change or delete the audit log. Names only.
 */
export async function databaseRoleProblems(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{
    role: string;
    superuser: boolean;
    owns: string | null;
    erase: boolean;
  }>(
    `SELECT current_user AS role,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            (SELECT string_agg(c.relname, ', ' ORDER BY c.relname)
               FROM pg_class c
              WHERE c.relkind IN ('r', 'p') AND c.relnamespace = ANY (current_schemas(false)::regnamespace[])
                AND pg_has_role(current_user, c.relowner, 'USAGE')) AS owns,
            coalesce(to_regclass('audit_log') IS NOT NULL
                     AND (has_table_privilege('audit_log', 'UPDATE') OR has_table_privilege('audit_log', 'DELETE')
                          OR has_table_privilege('audit_log', 'TRUNCATE')), false) AS erase`,
  );
  const r = rows[0];
  const problems: string[] = [];
  const fix = 'connect the apps as the app role (DATABASE_APP_ROLE; README "Security": database roles)';
  if (r.superuser) problems.push(`DATABASE_URL connects as ${r.role}, a superuser; ${fix}`);
  else if (r.owns) problems.push(`DATABASE_URL connects as ${r.role}, which owns the tables; ${fix}`);
  else if (r.erase)
    problems.push(`DATABASE_URL connects as ${r.role}, which can change or delete the audit log; ${fix}`);
  return problems;
}
