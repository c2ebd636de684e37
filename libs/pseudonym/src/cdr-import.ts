import { Pseudonymiser, PseudonymError } from './pseudonym';

/**
 * Turns one clear call record (a CDR row as a carrier exports it) into the pseudonymised events of
 * the ingest contract, in proto3 JSON form. Runs on the carrier's side with the carrier's key.
 */
export type NumberPlan = 'e164' | 'opaque';

export interface CdrColumns {
  caller: string;
  callee: string;
  /** start of the call (answer time when the switch records it so), 'YYYY-MM-DD HH:MM:SS' or ISO */
  start: string;
  /** seconds of conversation; 0 = unanswered */
  duration: string;
  imei?: string;
  region?: string;
  cell?: string;
  /** column whose value marks an international leg (simbox sample: DESTINATION_CAT) */
  category?: string;
}

export const SIMBOX_COLUMNS: CdrColumns = {
  caller: 'A_Num',
  callee: 'B_Num',
  start: 'Charging_Tm',
  duration: 'Call_Duration',
  imei: 'IMEI',
  region: 'LOCATION',
  cell: 'cell_id',
  category: 'DESTINATION_CAT',
};

export const GENERIC_COLUMNS: CdrColumns = {
  caller: 'caller',
  callee: 'callee',
  start: 'start_time',
  duration: 'duration_s',
  imei: 'imei',
  region: 'region',
  cell: 'cell',
};

export interface ImportOptions {
  columns: CdrColumns;
  numberPlan: NumberPlan;
  /** UTC offset of the switch clock in minutes, for times without a zone */
  utcOffsetMinutes: number;
  callerCountry: string;
  defaultRegion: string;
  /** country whose national format the export's numbers without '+' are in (e.g. CN) */
  defaultCountry?: string;
}

export interface CallEventJson {
  eventId: string;
  callId: string;
  type: 'CALL_ATTEMPT' | 'CALL_ANSWERED' | 'CALL_ENDED';
  eventTimeMs: number;
  caller: string;
  callee: string;
  callerClass: 'MOBILE' | 'INTERNATIONAL';
  callerCountry: string;
  callerIdVerified: 'UNVERIFIED';
  callerDisplayMismatch: boolean;
  calleeRegion: string;
  calleeCell?: string;
  callerDevice?: string;
  calleeAgeBand: 'AGE_UNKNOWN';
  talkDurationS?: number;
  releaseCause?: string;
}

export class RowError extends Error {}

function parseTime(value: string, utcOffsetMinutes: number): number {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(v);
  if (m) {
    const utc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return utc - utcOffsetMinutes * 60_000;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new RowError('start time is not a date');
  return t;
}

function identifier(p: Pseudonymiser, raw: string, o: ImportOptions, field: string): string {
  const v = raw.trim();
  if (!v) throw new RowError(`${field} is empty`);
  try {
    return o.numberPlan === 'e164' ? p.phoneToken(v, o.defaultCountry) : p.token('id:' + v);
  } catch (e) {
    if (e instanceof PseudonymError) throw new RowError(`${field}: ${e.message}`);
    throw e;
  }
}

export function cdrRowToEvents(
  row: Record<string, string>,
  p: Pseudonymiser,
  o: ImportOptions,
): CallEventJson[] {
  const c = o.columns;
  const caller = identifier(p, row[c.caller] ?? '', o, 'caller');
  const callee = identifier(p, row[c.callee] ?? '', o, 'callee');
  if (caller === callee) throw new RowError('caller equals callee');
  const start = parseTime(row[c.start] ?? '', o.utcOffsetMinutes);
  const duration = Number(row[c.duration]);
  if (!Number.isFinite(duration) || duration < 0) throw new RowError('duration is not a non-negative number');
  const talk = Math.round(duration);
  // The call id is derived with the carrier key too: it must not reveal who called whom.
  const callId = p.token(`call:${row[c.caller]}|${row[c.callee]}|${start}`).split('.')[2];
  const international = c.category ? /INTERNATIONAL/i.test(row[c.category] ?? '') : false;
  let device: string | undefined;
  const rawImei = c.imei ? (row[c.imei] ?? '').replace(/\.0+$/, '') : '';
  if (rawImei)
    device =
      o.numberPlan === 'e164' && rawImei.replace(/\D/g, '').length >= 14
        ? p.deviceToken(rawImei)
        : p.token('imei:' + rawImei);
  const region = (c.region ? (row[c.region] ?? '').replace(/\.0+$/, '') : '') || o.defaultRegion;
  const cell = c.cell ? (row[c.cell] ?? '').replace(/\.0+$/, '') : '';
  const common = {
    callId,
    caller,
    callee,
    callerClass: international ? ('INTERNATIONAL' as const) : ('MOBILE' as const),
    callerCountry: o.callerCountry,
    callerIdVerified: 'UNVERIFIED' as const,
    callerDisplayMismatch: false,
    calleeRegion: region,
    ...(cell ? { calleeCell: cell } : {}),
    ...(device ? { callerDevice: device } : {}),
    calleeAgeBand: 'AGE_UNKNOWN' as const,
  };
  const events: CallEventJson[] = [
    { ...common, eventId: `${callId}.a`, type: 'CALL_ATTEMPT', eventTimeMs: start },
  ];
  if (talk > 0) events.push({ ...common, eventId: `${callId}.n`, type: 'CALL_ANSWERED', eventTimeMs: start });
  events.push({
    ...common,
    eventId: `${callId}.e`,
    type: 'CALL_ENDED',
    eventTimeMs: start + talk * 1000,
    talkDurationS: talk,
    releaseCause: '16',
  });
  return events;
}
