import * as ingestV1 from './generated/eagleeye/v1/ingest';
import { AgeBandName, Attestation, CallerClassName, CallEventKind, HandoffEvent } from './handoff';
import { CALL_ID, CELL_ID, REGION } from './ids';
import { classifyPseudonym, idLooksLikeNumber, looksLikeClearNumber } from '@eagle-eye/pseudonym';

type CallEvent = ingestV1.CallEvent;
type Rejection = ingestV1.Rejection;
const Reason = ingestV1.RejectionReason;

export interface ValidatorLimits {
  /** how far ahead of `now` an event time may be, ms */
  maxFutureSkewMs: number;
  /** how far behind `now` an event time may be, ms */
  maxAgeMs: number;
}

export interface ValidatedBatch {
  /** the events to hand over, in batch order */
  valid: HandoffEvent[];
  /** one per refused event, in batch order */
  rejected: Rejection[];
}

const ID = CALL_ID; // event ids and call ids share the pattern (libs/contracts ids.ts)
const COUNTRY = /^[A-Z]{2}$/;
const CELL = CELL_ID;
const CAUSE = /^[A-Za-z0-9._-]{1,16}$/;
/** longest plausible call: two days */
const MAX_TALK_S = 2 * 24 * 3600;

const KIND: Record<number, CallEventKind | undefined> = {
  [ingestV1.CallEventType.CALL_ATTEMPT]: 'ATTEMPT',
  [ingestV1.CallEventType.CALL_ANSWERED]: 'ANSWERED',
  [ingestV1.CallEventType.CALL_ENDED]: 'ENDED',
};
const CLASS: Record<number, CallerClassName | undefined> = {
  [ingestV1.CallerClass.MOBILE]: 'MOBILE',
  [ingestV1.CallerClass.FIXED]: 'FIXED',
  [ingestV1.CallerClass.VIRTUAL_OPERATOR]: 'VIRTUAL_OPERATOR',
  [ingestV1.CallerClass.INTERNATIONAL]: 'INTERNATIONAL',
  [ingestV1.CallerClass.SERVICE]: 'SERVICE',
  [ingestV1.CallerClass.UNKNOWN]: 'UNKNOWN',
};
const ATTESTATION: Record<number, Attestation | undefined> = {
  [ingestV1.CallerIdVerification.ATTESTATION_A]: 'A',
  [ingestV1.CallerIdVerification.ATTESTATION_B]: 'B',
  [ingestV1.CallerIdVerification.ATTESTATION_C]: 'C',
  [ingestV1.CallerIdVerification.UNVERIFIED]: 'UNVERIFIED',
};
const AGE: Record<number, AgeBandName | undefined> = {
  [ingestV1.AgeBand.AGE_UNDER_18]: 'UNDER_18',
  [ingestV1.AgeBand.AGE_18_28]: '18_28',
  [ingestV1.AgeBand.AGE_29_45]: '29_45',
  [ingestV1.AgeBand.AGE_46_64]: '46_64',
  [ingestV1.AgeBand.AGE_65_PLUS]: '65_PLUS',
  [ingestV1.AgeBand.AGE_UNKNOWN]: 'UNKNOWN',
};

/** A refusal of one event: the reason code and a message naming the field, never its value. */
class Refusal {
  constructor(
    readonly code: ingestV1.RejectionReason,
    readonly message: string,
  ) {}
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function checkId(field: string, value: string): Refusal | undefined {
  if (value === '') return new Refusal(Reason.MISSING_FIELD, `${field} is required`);
  // before the pattern: a number in full-width digits must be refused as a number, not as malformed
  if (idLooksLikeNumber(value)) return clearNumberInId(field);
  if (!ID.test(value)) {
    return new Refusal(Reason.INVALID_FIELD, `${field} must be 1-64 characters of [A-Za-z0-9._:-]`);
  }
  return undefined;
}

/** Switches often build ids from the caller's number: such an id is refused, never stored or logged. */
function clearNumberInId(field: string): Refusal {
  return new Refusal(
    Reason.CLEAR_PHONE_NUMBER,
    `${field} contains a digit run that looks like a phone number (11+ digits in a row, separators ignored); use an id without it, a UUID for instance (the value was not stored)`,
  );
}

function checkPseudonym(field: string, value: string, required: boolean): Refusal | undefined {
  if (value === '') {
    return required
      ? new Refusal(Reason.MISSING_FIELD, `${field} is required (a pseudonym token)`)
      : undefined;
  }
  const verdict = classifyPseudonym(value);
  switch (verdict) {
    case 'ok':
      return undefined;
    case 'clear_number':
      return new Refusal(
        Reason.CLEAR_PHONE_NUMBER,
        `${field} looks like a clear phone number or IMEI; send the pseudonym token p1.<keyId>.<digest> instead (the value was not stored)`,
      );
    case 'malformed':
      return new Refusal(
        Reason.INVALID_PSEUDONYM,
        `${field} is not a pseudonym token p1.<keyId>.<22-character digest>`,
      );
  }
}

function checkEnum<T>(field: string, table: Record<number, T | undefined>, value: unknown): T | Refusal {
  const name = typeof value === 'number' ? table[value] : undefined;
  if (name !== undefined) return name;
  return new Refusal(
    Reason.UNKNOWN_ENUM,
    value === 0
      ? `${field} is unspecified; send one of its values`
      : `${field} has a value this server does not know`,
  );
}

/**
 * Checks one event field by field and builds its hand-off form. Returns the first problem found;
 * every path returns either a complete HandoffEvent or a Refusal (no field is trusted to be of its
 * declared type, so decoding quirks cannot crash it).
 */
export function validateCallEvent(
  ev: CallEvent,
  now: number,
  limits: ValidatorLimits,
): HandoffEvent | Refusal {
  const id = str(ev.eventId);
  const idProblem = checkId('event_id', id);
  if (idProblem) return idProblem;
  const call = str(ev.callId);
  const callProblem = checkId('call_id', call);
  if (callProblem) return callProblem;

  const type = checkEnum('type', KIND, ev.type);
  if (type instanceof Refusal) return type;

  const t = ev.eventTimeMs;
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t === 0) {
    return t === 0
      ? new Refusal(Reason.MISSING_FIELD, 'event_time_ms is required (epoch milliseconds)')
      : new Refusal(Reason.INVALID_FIELD, 'event_time_ms must be epoch milliseconds');
  }
  if (t > now + limits.maxFutureSkewMs) {
    return new Refusal(
      Reason.EVENT_TIME_IN_FUTURE,
      `event_time_ms is more than ${limits.maxFutureSkewMs} ms ahead of the server clock`,
    );
  }
  if (t < now - limits.maxAgeMs) {
    return new Refusal(
      Reason.EVENT_TIME_TOO_OLD,
      `event_time_ms is more than ${limits.maxAgeMs} ms in the past`,
    );
  }

  const caller = str(ev.caller);
  const callee = str(ev.callee);
  const device = str(ev.callerDevice);
  const pseudonymProblem =
    checkPseudonym('caller', caller, true) ??
    checkPseudonym('callee', callee, true) ??
    checkPseudonym('caller_device', device, false);
  if (pseudonymProblem) return pseudonymProblem;
  if (caller === callee)
    return new Refusal(Reason.CALLER_EQUALS_CALLEE, 'caller and callee are the same subscriber');

  const cls = checkEnum('caller_class', CLASS, ev.callerClass);
  if (cls instanceof Refusal) return cls;

  const country = str(ev.callerCountry);
  if (country === '')
    return new Refusal(Reason.MISSING_FIELD, 'caller_country is required (ISO 3166-1 alpha-2)');
  if (!COUNTRY.test(country)) {
    return new Refusal(
      Reason.INVALID_FIELD,
      'caller_country must be an ISO 3166-1 alpha-2 code such as "CN"',
    );
  }

  const att = checkEnum('caller_id_verified', ATTESTATION, ev.callerIdVerified);
  if (att instanceof Refusal) return att;

  const region = str(ev.calleeRegion);
  if (region === '') return new Refusal(Reason.MISSING_FIELD, 'callee_region is required');
  if (!REGION.test(region)) {
    return new Refusal(Reason.INVALID_FIELD, 'callee_region must be 1-16 characters of [A-Za-z0-9_-]');
  }
  const cell = str(ev.calleeCell);
  if (cell !== '' && idLooksLikeNumber(cell)) return clearNumberInId('callee_cell');
  if (cell !== '' && !CELL.test(cell)) {
    return new Refusal(Reason.INVALID_FIELD, 'callee_cell must be 1-32 characters of [A-Za-z0-9._:-]');
  }

  const age = checkEnum('callee_age_band', AGE, ev.calleeAgeBand);
  if (age instanceof Refusal) return age;

  const talk = ev.talkDurationS;
  if (typeof talk !== 'number' || !Number.isInteger(talk)) {
    return new Refusal(Reason.INVALID_FIELD, 'talk_duration_s must be an integer');
  }
  if (talk < 0) return new Refusal(Reason.NEGATIVE_DURATION, 'talk_duration_s must not be negative');
  const cause = str(ev.releaseCause);
  if (type !== 'ENDED') {
    if (talk !== 0) return new Refusal(Reason.INVALID_FIELD, 'talk_duration_s is only allowed on CALL_ENDED');
    if (cause !== '') return new Refusal(Reason.INVALID_FIELD, 'release_cause is only allowed on CALL_ENDED');
  } else {
    if (talk > MAX_TALK_S) {
      return new Refusal(Reason.INVALID_FIELD, `talk_duration_s must be at most ${MAX_TALK_S} seconds`);
    }
    if (cause !== '') {
      if (looksLikeClearNumber(cause)) {
        return new Refusal(
          Reason.CLEAR_PHONE_NUMBER,
          'release_cause looks like a clear phone number (not stored)',
        );
      }
      if (!CAUSE.test(cause)) {
        return new Refusal(Reason.INVALID_FIELD, 'release_cause must be 1-16 characters of [A-Za-z0-9._-]');
      }
    }
  }
  if (typeof ev.callerDisplayMismatch !== 'boolean') {
    return new Refusal(Reason.INVALID_FIELD, 'caller_display_mismatch must be a boolean');
  }

  const out: HandoffEvent = {
    id,
    call,
    type,
    t,
    caller,
    callee,
    cls,
    country,
    att,
    mis: ev.callerDisplayMismatch,
    region,
    age,
    rx: now,
  };
  if (cell !== '') out.cell = cell;
  if (device !== '') out.device = device;
  if (type === 'ENDED') {
    out.talk = talk;
    if (cause !== '') out.cause = cause;
  }
  return out;
}

/**
 * Validates a batch: each bad event is refused on its own, the rest go on. The same event_id twice
 * in one batch: the first counts, later ones are refused as DUPLICATE_IN_BATCH.
 */
export function validateBatch(
  events: readonly CallEvent[],
  now: number,
  limits: ValidatorLimits,
): ValidatedBatch {
  const valid: HandoffEvent[] = [];
  const rejected: Rejection[] = [];
  const seen = new Set<string>();
  for (let index = 0; index < events.length; index++) {
    const ev = events[index];
    let result: HandoffEvent | Refusal;
    try {
      result =
        ev && typeof ev === 'object'
          ? validateCallEvent(ev, now, limits)
          : new Refusal(Reason.MISSING_FIELD, 'event is empty');
    } catch {
      // Defensive: a validator bug must refuse one event, not fail the batch.
      result = new Refusal(Reason.INVALID_FIELD, 'event could not be validated');
    }
    if (!(result instanceof Refusal) && seen.has(result.id)) {
      result = new Refusal(
        Reason.DUPLICATE_IN_BATCH,
        'event_id appears earlier in this batch; the first one counts',
      );
    }
    if (result instanceof Refusal) {
      const rawId = ev && typeof ev === 'object' ? str(ev.eventId) : '';
      rejected.push({
        index,
        // echoed only when well-formed, so a clear number sent as an id is never returned
        eventId: ID.test(rawId) && !/^\+?\d{6,}$/.test(rawId) && !idLooksLikeNumber(rawId) ? rawId : '',
        code: result.code,
        message: result.message,
      });
    } else {
      seen.add(result.id);
      valid.push(result);
    }
  }
  return { valid, rejected };
}
