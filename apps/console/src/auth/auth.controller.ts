import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from '@eagle-eye/config';
import { AuditRepository } from '../audit/audit.repository';
import { parseInput } from '../validation';
import { AuthGuard, CurrentUser, Public } from './auth.guard';
import { AuthService } from './auth.service';
import { Principal } from './principal';

const loginBody = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(200),
});

@ApiTags('auth')
@UseGuards(AuthGuard)
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly audit: AuditRepository,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a username and password for a session token (JWT)' })
  @ApiBody({ schema: { properties: { username: { type: 'string' }, password: { type: 'string' } } } })
  async login(@Body() body: unknown): Promise<{ token: string; expiresIn: number; user: Principal }> {
    const { username, password } = parseInput(loginBody, body);
    const { token, principal, expiresIn } = await this.auth.login(username, password);
    await this.audit.record(principal, 'auth.login', 'console_user', principal.userId);
    return { token, expiresIn, user: principal };
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in user, role and scope' })
  me(@CurrentUser() p: Principal): Principal {
    return p;
  }
}
