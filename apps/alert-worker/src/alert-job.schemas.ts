import { z } from '@eagle-eye/config';
import {
  ALERT_BATCH_MAX_ITEMS,
  AlertJobName,
  AlertTimerJobName,
  CALL_ID,
  CARRIER_ID,
  REGION,
  REASON_CODES,
  ReasonCode,
  CallEndedJob,
  EscalateUnclaimedJob,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { redactPhoneNumbers } from '@eagle-eye/observability';
import { classifyPseudonym, idLooksLikeNumber } from '@eagle-eye/pseudonym';
import { FEATURE_COUNT } from '@eagle-eye/scoring';

/**
 * Alert jobs are validated again here: the queue is a trust boundary of its own, and nothing that
 * is not a pseudonym token may reach the alerts table (no clear numbers, ever).
 */
const token = z.string().refine((v) => classifyPseudonym(v) === 'ok', {
  message: 'must be a pseudonym token (p1.<keyId>.<digest>)',
});
const carrierId = z.string().regex(CARRIER_ID);
const callId = z
  .string()
  .regex(CALL_ID)
  .refine((v) => !idLooksLikeNumber(v), { message: 'must not contain a phone number' });
const region = z.string().regex(REGION);
const epochMs = z.number().int().min(0).max(8.64e15);
/**
 * A reason's figures: counts, percentages, a model version, a list note (free text an operator
 * wrote: checked for phone numbers like the reason's text).
 */
const reasonParams = z
  .record(
    z.string().regex(/^[A-Za-z0-9_]{1,40}$/),
    z.union([
      z.number().finite(),
      z
        .string()
        .max(300)
        .transform((t) => redactPhoneNumbers(t)),
    ]),
  )
  .refine((p) => Object.keys(p).length <= 40, { message: 'at most 40 parameters' });
const reason = z.object({
  rule: z.string().min(1).max(64),
  points: z.number().finite(),
  // a code this worker does not know (a newer detector) or malformed figures cost the reason its
  // wording in the operator's language, never the alert: the English text still says it
  code: z
    .enum(REASON_CODES as [ReasonCode, ...ReasonCode[]])
    .optional()
    .catch(undefined),
  params: reasonParams.optional().catch(undefined),
  text: z
    .string()
    .max(500)
    .transform((t) => redactPhoneNumbers(t)),
  reportOnly: z.boolean().optional(),
});
const severity = z.enum(['warning', 'critical']);
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** W3C traceparent; a malformed one costs the job its trace, never the alert */
const traceparent = z
  .unknown()
  .optional()
  .transform((v) => (typeof v === 'string' && TRACEPARENT.test(v) ? v : undefined));

/**
 * The suspect's caller-model features (FEATURE_NAMES order). A snapshot of another length (a
 * detector of another model generation) or with a non-finite value costs the alert its snapshot,
 * never the alert.
 */
const callerFeatures = z
  .unknown()
  .optional()
  .transform((v) =>
    Array.isArray(v) &&
    v.length === FEATURE_COUNT &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x))
      ? (v as number[])
      : undefined,
  );

export const victimOnCallSchema = z.object({
  kind: z.enum(['victim_on_call', 'post_call']),
  carrierId,
  callId,
  victim: token,
  suspect: token,
  region,
  severity,
  score: z.number().finite(),
  reasons: z.array(reason).max(50),
  callAnsweredAt: epochMs,
  callEndedAt: epochMs.optional(),
  talkTimeS: z.number().int().min(0).optional(),
  stepS: z.number().int().min(0),
  eventTimeMs: epochMs,
  ingestedAtMs: epochMs.optional(),
  raisedAt: epochMs,
  traceparent,
  callerFeatures,
}) satisfies z.ZodType<VictimOnCallJob>;

export const callEndedSchema = z.object({
  carrierId,
  callId,
  callEndedAt: epochMs,
  talkTimeS: z.number().int().min(0),
  raisedAt: epochMs,
  traceparent,
}) satisfies z.ZodType<CallEndedJob>;

export const suspectNumberSchema = z.object({
  kind: z.literal('suspect_number'),
  carrierId,
  suspect: token,
  region: region.optional(),
  severity,
  score: z.number().finite(),
  reasons: z.array(reason).max(50),
  eventTimeMs: epochMs,
  raisedAt: epochMs,
  traceparent,
  callerFeatures,
}) satisfies z.ZodType<SuspectNumberJob>;

export const escalateSchema = z.object({
  alertId: z.string().regex(/^\d{1,18}$/),
}) satisfies z.ZodType<EscalateUnclaimedJob>;

/**
 * A batch of a detector round's alert jobs (libs/contracts alert-batch.ts). Only its shape is checked
 * here; each item's data is checked by its own job's schema when it is applied, so one bad item
 * costs that item, not the batch.
 */
export const alertBatchSchema = z.object({
  items: z
    .array(
      z.object({
        name: z.enum(Object.values(AlertJobName) as [AlertJobName, ...AlertJobName[]]),
        id: z.string().min(1).max(300),
        data: z.unknown(),
      }),
    )
    .min(1)
    // a newer detector may send more per batch than this one does: twice the limit is still taken
    .max(2 * ALERT_BATCH_MAX_ITEMS),
});

export type WorkerJobName = AlertJobName | AlertTimerJobName;
export const WORKER_JOB_NAMES: WorkerJobName[] = [
  ...Object.values(AlertJobName),
  ...Object.values(AlertTimerJobName),
];

/** Problems as one line: `victim: must be a pseudonym token; score: ...` (values never echoed). */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
}
