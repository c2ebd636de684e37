import {
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ALERTS_DEAD_LETTER_QUEUE } from '@eagle-eye/contracts';
import { z } from '@eagle-eye/config';
import { AuditRepository } from '../audit/audit.repository';
import { Allow, AuthGuard, CurrentUser } from '../auth/auth.guard';
import { Principal } from '../auth/principal';
import { parseInput } from '../validation';
import {
  DeadLetter,
  DeadLetterRetryRefused,
  DeadLettersRepository,
  RetryResult,
} from './dead-letters.repository';

/** A BullMQ job id as the alert jobs make them (`voc|carrier-a|call-1|...`) or BullMQ's own numbers. */
const jobIdParam = z
  .string()
  .regex(/^[\w.|+=-]{1,300}$/, { message: 'must be a job id' })
  .refine((s) => !s.includes(':'), { message: 'must be a job id' });

/**
 * Alert jobs that failed every attempt (the alert worker copies them to alerts-dead-letter), for
 * supervisors and admins: a retry puts one back on the alerts queue once its cause is fixed (a
 * carrier added, PostgreSQL back). Every read and retry is audited.
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('api/admin/dead-letters')
export class DeadLettersController {
  constructor(
    private readonly deadLetters: DeadLettersRepository,
    private readonly audit: AuditRepository,
  ) {}

  @Get()
  @Allow('dead_letters.manage')
  @ApiOperation({ summary: 'Alert jobs that failed every attempt, oldest first (supervisor, admin)' })
  async deadLetterList(@CurrentUser() p: Principal): Promise<{ total: number; items: DeadLetter[] }> {
    const page = await this.deadLetters.page(100);
    await this.audit.record(p, 'dead_letters.read', 'queue', ALERTS_DEAD_LETTER_QUEUE);
    return page;
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Allow('dead_letters.manage')
  @ApiOperation({
    summary:
      'Put a dead-lettered alert job back on the alerts queue (its attempts reset) and remove the dead ' +
      'letter (supervisor, admin)',
  })
  async retry(@CurrentUser() p: Principal, @Param('id') rawId: string): Promise<RetryResult> {
    const id = parseInput(jobIdParam, rawId);
    let result: RetryResult | null;
    try {
      result = await this.deadLetters.retry(id);
    } catch (e) {
      if (e instanceof DeadLetterRetryRefused) throw new UnprocessableEntityException(e.message);
      throw e;
    }
    if (!result) throw new NotFoundException(`dead letter ${id} not found`);
    await this.audit.record(p, 'dead_letter.retry', 'alert_job', id, {
      name: result.name,
      jobId: result.jobId,
      how: result.how,
    });
    return result;
  }
}
