import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { can, Permission } from './access-policy';
import { AuthService, Session } from './auth.service';
import { Principal } from './principal';

const PUBLIC = 'ee:public';
const ALLOW_KEY = 'ee:allow';

/** No session needed (login, health, the web UI's files). */
export const Public = () => SetMetadata(PUBLIC, true);
/** Only roles holding this permission (access-policy.ts); everyone else gets 403. */
export const Allow = (action: Permission) => SetMetadata(ALLOW_KEY, action);

type AuthedRequest = Request & { principal?: Principal; eeSession?: Session };

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p) throw new Error('CurrentUser used on a public route');
  return p;
});

export const CurrentSession = createParamDecorator((_: unknown, ctx: ExecutionContext): Session => {
  const s = ctx.switchToHttp().getRequest<AuthedRequest>().eeSession;
  if (!s) throw new Error('CurrentSession used on a public route');
  return s;
});

/** Every route needs a valid session (401) and, where declared, the permission it names (403). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const header = req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    req.eeSession = await this.auth.verifySession(token);
    req.principal = req.eeSession.principal;
    const action = this.reflector.getAllAndOverride<Permission | undefined>(ALLOW_KEY, targets);
    if (action && !can(req.principal, action)) {
      throw new ForbiddenException(`role ${req.principal.role} may not do this (${action})`);
    }
    return true;
  }
}
