import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import { Role } from './principal';

/** A console user as sign-in and session checks read it (with the password hash). */
export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  carrier_id: string | null;
  regions: string[];
  display_name: string;
  disabled: boolean;
  token_version: number;
}

/** A console user as the admin API shows it (never the hash). */
export interface UserOut {
  id: string;
  username: string;
  role: string;
  carrierId: string | null;
  regions: string[];
  displayName: string;
  disabled: boolean;
}

const USER_COLS = `id::text, username, role, carrier_id AS "carrierId", regions, display_name AS "displayName", disabled`;

export interface NewUser {
  username: string;
  passwordHash: string;
  role: Role;
  carrierId: string | null;
  regions: string[];
  displayName: string;
}

export interface UserChange {
  disabled?: boolean;
  passwordHash?: string;
  regions?: string[];
  displayName?: string;
}

/**
 * Console users. `token_version` is bumped whenever existing sessions must end (disabled, password
 * changed or reset, logout everywhere): tokens carry the version they were issued under.
 */
@Injectable()
export class UsersRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async byUsername(username: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM console_users WHERE username = $1', [
      username,
    ]);
    return rows[0];
  }

  async byId(id: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM console_users WHERE id = $1', [id]);
    return rows[0];
  }

  async list(): Promise<UserOut[]> {
    const { rows } = await this.pool.query<UserOut>(
      `SELECT ${USER_COLS} FROM console_users ORDER BY username`,
    );
    return rows;
  }

  /** Inserts a user; PostgreSQL's 23505 (username taken) and 23503 (no such carrier) reach the caller. */
  async create(u: NewUser): Promise<UserOut> {
    const { rows } = await this.pool.query<UserOut>(
      `INSERT INTO console_users (username, password_hash, role, carrier_id, regions, display_name)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLS}`,
      [u.username, u.passwordHash, u.role, u.carrierId, u.regions, u.displayName],
    );
    return rows[0];
  }

  /**
   * Applies an admin's change; disabling or a new password also ends every session. Regions
   * change for police officers only. Undefined: no such user.
   */
  async update(id: string, c: UserChange): Promise<UserOut | undefined> {
    const { rows } = await this.pool.query<UserOut>(
      `UPDATE console_users SET disabled = COALESCE($2, disabled), password_hash = COALESCE($3, password_hash),
              regions = CASE WHEN role = 'police_officer' THEN COALESCE($4, regions) ELSE regions END,
              display_name = COALESCE($5, display_name),
              token_version = token_version + CASE WHEN $2 IS TRUE OR $3::text IS NOT NULL THEN 1 ELSE 0 END
        WHERE id = $1 RETURNING ${USER_COLS}`,
      [id, c.disabled ?? null, c.passwordHash ?? null, c.regions ?? null, c.displayName ?? null],
    );
    return rows[0];
  }

  /** Ends every session of a user: tokens issued before no longer match its version. */
  async bumpTokenVersion(id: string): Promise<void> {
    await this.pool.query('UPDATE console_users SET token_version = token_version + 1 WHERE id = $1', [id]);
  }

  /** One's own new password (ends every session); undefined when the user is gone or disabled. */
  async setOwnPassword(id: string, passwordHash: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `UPDATE console_users SET password_hash = $2, token_version = token_version + 1
        WHERE id = $1 AND NOT disabled RETURNING *`,
      [id, passwordHash],
    );
    return rows[0];
  }
}
