import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { CONSOLE_CONFIG, ConsoleConfig, JWT_AUDIENCE, JWT_ISSUER } from '../config';
import { consoleLogins } from '../console.metrics';
import { PasswordHasher } from './password-hasher';
import { Principal } from './principal';
import { SessionStore } from './sessions';
import { UserRow, UsersRepository } from './users.repository';

/** A verified session: who, which session (jti), and when its token expires (epoch seconds). */
export interface Session {
  principal: Principal;
  jti: string;
  exp: number;
}

/** Too many failed sign-ins from this IP or for this username: 429 with Retry-After. */
export class LoginThrottledException extends HttpException {
  constructor(readonly retryAfterS: number) {
    super(
      { statusCode: 429, error: 'Too Many Requests', message: 'too many failed sign-ins; try again later' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

// Compared against when the user does not exist, so a wrong username costs as long as a wrong
// password (a precomputed bcrypt hash, cost 10: nothing is hashed synchronously at start-up).
const DUMMY_HASH = '$2b$10$l1bTRLaDEhD29JnwcrNaa.TBdineVjhq.iSROHHa.P0NmX8PR0QMe';

/**
 * Sessions are HS256 JWTs (issuer and audience checked, short expiry) naming the user, a session
 * id (`jti`) and the user's token version (`tv`). A token is accepted only while its session is
 * live in Redis (logout and CONSOLE_IDLE_TIMEOUT_S end it) and its `tv` equals the user's
 * `token_version` (a password change, logout everywhere or disabling the user bump it). The role
 * and scope are read from the database on every request and socket re-check, so disabling a user
 * or changing their scope takes effect at once.
 */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    private readonly sessions: SessionStore,
    private readonly passwords: PasswordHasher,
  ) {}

  /**
   * Checks a username and password (bcrypt on a worker thread: the event loop serving live alerts
   * keeps running) and starts a session. Failed attempts are counted per client IP and per username;
   * past the limit every attempt is refused with 429 before the password is even compared.
   */
  async login(
    username: string,
    password: string,
    ip: string,
  ): Promise<{ token: string; principal: Principal; expiresIn: number }> {
    const blockedFor = await this.sessions.loginBlockedFor(ip, username);
    if (blockedFor > 0) {
      consoleLogins.inc({ result: 'throttled' });
      throw new LoginThrottledException(blockedFor);
    }
    const row = await this.users.byUsername(username);
    const ok = await this.passwords.compare(password, row?.password_hash ?? DUMMY_HASH);
    if (!row || !ok || row.disabled) {
      consoleLogins.inc({ result: 'refused' });
      const retryAfter = await this.sessions.loginFailed(ip, username);
      if (retryAfter > 0) throw new LoginThrottledException(retryAfter);
      throw new UnauthorizedException('wrong username or password');
    }
    consoleLogins.inc({ result: 'ok' });
    await this.sessions.loginSucceeded(username);
    return this.issue(row);
  }

  /** Signs a fresh token for a user row (a new server-side session). */
  private async issue(row: UserRow): Promise<{ token: string; principal: Principal; expiresIn: number }> {
    const jti = await this.sessions.start(String(row.id));
    const token = jwt.sign(
      { username: row.username, role: row.role, tv: row.token_version },
      this.config.CONSOLE_JWT_SECRET,
      {
        algorithm: 'HS256',
        subject: String(row.id),
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        expiresIn: this.config.CONSOLE_JWT_TTL_S,
        jwtid: jti,
      },
    );
    return { token, principal: toPrincipal(row), expiresIn: this.config.CONSOLE_JWT_TTL_S };
  }

  /** The principal of a bearer token, or an UnauthorizedException saying why not. */
  async verify(token: string | undefined): Promise<Principal> {
    return (await this.verifySession(token)).principal;
  }

  /** The verified session of a bearer token (and its idle deadline pushed back), or a 401 saying why not. */
  async verifySession(token: string | undefined): Promise<Session> {
    if (!token) throw new UnauthorizedException('missing token');
    let sub: string;
    let jti: string;
    let tv: number;
    let exp: number;
    try {
      const claims = jwt.verify(token, this.config.CONSOLE_JWT_SECRET, {
        algorithms: ['HS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
      if (
        typeof claims === 'string' ||
        !claims.sub ||
        !/^\d{1,18}$/.test(claims.sub) ||
        typeof claims.jti !== 'string' ||
        !/^[A-Za-z0-9_-]{16,64}$/.test(claims.jti) ||
        !Number.isSafeInteger(claims.tv) ||
        typeof claims.exp !== 'number'
      )
        throw new Error('bad claims');
      sub = claims.sub;
      jti = claims.jti;
      tv = claims.tv as number;
      exp = claims.exp;
    } catch (e) {
      const expired = (e as Error).name === 'TokenExpiredError';
      throw new UnauthorizedException(expired ? 'token expired' : 'invalid token');
    }
    if (!(await this.sessions.touch(jti))) throw new UnauthorizedException('session ended');
    const user = await this.users.byId(sub);
    if (!user || user.disabled) throw new UnauthorizedException('user unknown or disabled');
    if (user.token_version !== tv) throw new UnauthorizedException('session ended');
    return { principal: toPrincipal(user), jti, exp };
  }

  /** Ends one session (logout). */
  async logout(jti: string): Promise<void> {
    await this.sessions.end(jti);
  }

  /** Ends every session of a user: every token issued before stops working. */
  async endAllSessions(userId: string): Promise<void> {
    await this.users.bumpTokenVersion(userId);
  }

  /**
   * Changes one's own password: the current one must be right (failures count like failed
   * sign-ins), every existing session ends, and a fresh token is returned.
   */
  async changePassword(
    s: Session,
    current: string,
    next: string,
    ip: string,
  ): Promise<{ token: string; principal: Principal; expiresIn: number }> {
    const username = s.principal.username;
    const blockedFor = await this.sessions.loginBlockedFor(ip, username);
    if (blockedFor > 0) throw new LoginThrottledException(blockedFor);
    const user = await this.users.byId(s.principal.userId);
    if (!user || !(await this.passwords.compare(current, user.password_hash))) {
      const retryAfter = await this.sessions.loginFailed(ip, username);
      if (retryAfter > 0) throw new LoginThrottledException(retryAfter);
      throw new UnauthorizedException('wrong current password');
    }
    const hash = await this.passwords.hash(next);
    const updated = await this.users.setOwnPassword(s.principal.userId, hash);
    if (!updated) throw new UnauthorizedException('user unknown or disabled');
    await this.sessions.end(s.jti);
    return this.issue(updated);
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
