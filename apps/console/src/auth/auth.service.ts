import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import jwt from 'jsonwebtoken';
import { Pool } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import { CONSOLE_CONFIG, ConsoleConfig, JWT_AUDIENCE, JWT_ISSUER } from '../config';
import { consoleLogins } from '../console.metrics';
import { Principal, Role } from './principal';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  carrier_id: string | null;
  regions: string[];
  display_name: string;
  disabled: boolean;
}

// Compared against when the user does not exist, so a wrong username costs as long as a wrong password.
const DUMMY_HASH = bcrypt.hashSync('not-a-real-password', 10);

/**
 * Sessions are HS256 JWTs (issuer and audience checked, short expiry) naming the user; the user's
 * role and scope are read from the database on every request and handshake, so disabling a user
 * or changing their scope takes effect at once.
 */
@Injectable()
export class AuthService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  async login(
    username: string,
    password: string,
  ): Promise<{ token: string; principal: Principal; expiresIn: number }> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM console_users WHERE username = $1', [
      username,
    ]);
    const row = rows[0];
    const ok = await bcrypt.compare(password, row?.password_hash ?? DUMMY_HASH);
    if (!row || !ok || row.disabled) {
      consoleLogins.inc({ result: 'refused' });
      throw new UnauthorizedException('wrong username or password');
    }
    consoleLogins.inc({ result: 'ok' });
    const token = jwt.sign({ username: row.username, role: row.role }, this.config.CONSOLE_JWT_SECRET, {
      algorithm: 'HS256',
      subject: String(row.id),
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      expiresIn: this.config.CONSOLE_JWT_TTL_S,
    });
    return { token, principal: toPrincipal(row), expiresIn: this.config.CONSOLE_JWT_TTL_S };
  }

  /** The principal of a bearer token, or an UnauthorizedException saying why not. */
  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new UnauthorizedException('missing token');
    let sub: string;
    try {
      const claims = jwt.verify(token, this.config.CONSOLE_JWT_SECRET, {
        algorithms: ['HS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
      if (typeof claims === 'string' || !claims.sub || !/^\d{1,18}$/.test(claims.sub))
        throw new Error('bad claims');
      sub = claims.sub;
    } catch (e) {
      const expired = (e as Error).name === 'TokenExpiredError';
      throw new UnauthorizedException(expired ? 'token expired' : 'invalid token');
    }
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM console_users WHERE id = $1', [sub]);
    if (!rows[0] || rows[0].disabled) throw new UnauthorizedException('user unknown or disabled');
    return toPrincipal(rows[0]);
  }
}

function toPrincipal(r: UserRow): Principal {
  return {
    userId: String(r.id),
    username: r.username,
    role: r.role,
    carrierId: r.carrier_id,
    regions: r.regions,
    displayName: r.display_name,
  };
}
