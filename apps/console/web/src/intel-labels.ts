import type { AlertKind, AlertOutcome } from '@eagle-eye/contracts/alerts';

/** Outcomes in the order desks record them (one list for every intelligence page). */
export const OUTCOME_KEYS: readonly AlertOutcome[] = [
  'dissuaded',
  'victim_unreachable',
  'false_positive',
  'confirmed_fraud',
];

/** Kinds of alert, the calls first. */
export const KIND_KEYS: readonly AlertKind[] = ['victim_on_call', 'post_call', 'suspect_number'];
