import { Module } from '@nestjs/common';
import { CallerModelsRepository } from './caller-models.repository';
import { RulesRepository } from './rules.repository';

/** Detection rules and number lists. Needs DbModule and RedisModule (both global) in the app. */
@Module({
  providers: [RulesRepository, CallerModelsRepository],
  exports: [RulesRepository, CallerModelsRepository],
})
export class RulesModule {}
