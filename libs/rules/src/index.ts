export * from './rule-catalog';
export * from './rules.repository';
export * from './rules.module';
export * from './caller-models.repository';
export * from './candidate-rules';
