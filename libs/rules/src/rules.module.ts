import { Module } from '@nestjs/common';
import { RulesRepository } from './rules.repository';

/** Detection rules and number lists. Needs DbModule and RedisModule (both global) in the app. */
@Module({ providers: [RulesRepository], exports: [RulesRepository] })
export class RulesModule {}
