export * from './handoff';
export * from './handoff-packed';
export * from './alerts';
export * from './backtests';
export * as ingestV1 from './generated/eagleeye/v1/ingest';
export * from './ids';
export * from './call-event.validator';
export * from './call-event-ndjson';
export * from './reasons';
