import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Req,
  Res,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from '@eagle-eye/config';
import { redactPhoneNumbers } from '@eagle-eye/observability';
import { AlertsGateway } from '../alerts/alerts.gateway';
import { AuditRepository } from '../audit/audit.repository';
import { parseInput } from '../validation';
import { AuthGuard, CurrentSession, CurrentUser, Public } from './auth.guard';
import { AuthService, LoginThrottledException, Session } from './auth.service';
import { Principal } from './principal';

const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(200),
});
const logoutBody = z.object({ everywhere: z.boolean().default(false) });
const passwordBody = z.object({
  currentPassword: z.string().min(1).max(200),
  newPassword: z.string().min(10).max(200),
});

type Issued = { token: string; expiresIn: number; user: Principal };

/** The client address failed sign-ins are counted against (the TCP peer; no proxy header is trusted). */
function clientIp(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

@ApiTags('auth')
@UseGuards(AuthGuard)
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly audit: AuditRepository,
    private readonly gateway: AlertsGateway,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Exchange a username and password for a session token (JWT); 429 + Retry-After after repeated failures',
  })
  @ApiBody({ schema: { properties: { username: { type: 'string' }, password: { type: 'string' } } } })
  async login(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Issued> {
    const { username, password } = parseInput(loginBody, body);
    const ip = clientIp(req);
    try {
      const { token, principal, expiresIn } = await this.auth.login(username, password, ip);
      await this.audit.record(principal, 'auth.login', 'console_user', principal.userId, { ip });
      return { token, expiresIn, user: principal };
    } catch (e) {
      const throttled = e instanceof LoginThrottledException;
      const busy = e instanceof ServiceUnavailableException;
      if (throttled) res.setHeader('Retry-After', String(e.retryAfterS));
      if (busy) res.setHeader('Retry-After', '1');
      await this.audit.record(anonymous(username), 'auth.login_failed', 'console_user', null, {
        ip,
        throttled,
        ...(busy ? { busy } : {}),
      });
      throw e;
    }
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'End this session now (its token stops working); `everywhere: true` ends every session of yours',
  })
  async logout(@CurrentSession() s: Session, @Body() body: unknown): Promise<void> {
    const { everywhere } = parseInput(logoutBody, body);
    await this.auth.logout(s.jti);
    if (everywhere) await this.auth.endAllSessions(s.principal.userId);
    await this.audit.record(s.principal, 'auth.logout', 'console_user', s.principal.userId, { everywhere });
    if (everywhere) this.gateway.endSessions({ userId: s.principal.userId }, 'signed out everywhere');
    else this.gateway.endSessions({ jti: s.jti }, 'signed out');
  }

  @Post('password')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Change your password: every session of yours ends; a fresh token is returned' })
  async changePassword(
    @CurrentSession() s: Session,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Issued> {
    const b = parseInput(passwordBody, body);
    try {
      const { token, principal, expiresIn } = await this.auth.changePassword(
        s,
        b.currentPassword,
        b.newPassword,
        clientIp(req),
      );
      await this.audit.record(principal, 'auth.password_change', 'console_user', principal.userId);
      this.gateway.endSessions({ userId: principal.userId }, 'password changed');
      return { token, expiresIn, user: principal };
    } catch (e) {
      if (e instanceof LoginThrottledException) res.setHeader('Retry-After', String(e.retryAfterS));
      await this.audit.record(s.principal, 'auth.password_change_failed', 'console_user', s.principal.userId);
      throw e;
    }
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in user, role and scope' })
  me(@CurrentUser() p: Principal): Principal {
    return p;
  }
}

/** The audit actor of a failed sign-in: the name tried (phone numbers masked), no role, no scope. */
function anonymous(username: string): Principal {
  return {
    userId: '',
    username: redactPhoneNumbers(username).slice(0, 64),
    role: 'anonymous' as Principal['role'],
    carrierId: null,
    regions: [],
    displayName: '',
  };
}
