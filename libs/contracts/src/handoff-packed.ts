import type { AgeBandName, Attestation, CallerClassName, CallEventKind, HandoffEvent } from './handoff';

/**
 * The packed encoding of hand-off events (stream entry field `p`): one line per event, lines
 * joined by '\n', the fields of a line joined by '\t', in PACKED_FIELDS order; enums as one
 * character, numbers in decimal, an absent optional field as ''. About half the bytes of the JSON
 * it replaces, and decoding is two splits and two number parses per event instead of JSON.parse.
 *
 * It stays ASCII (every string field is validated to [A-Za-z0-9._:-] or base64url by ingest, so
 * neither separator can occur inside a field): entries read as strings or as bytes alike, and the
 * hand-off script cuts duplicates out by line.
 *
 * The trace context is not part of it: it is the same for every event of an entry, so it rides
 * once per entry in field `t` (handoff.ts), and an entry without it decodes as before.
 */
export const PACKED_FIELDS = [
  'id',
  'call',
  'type',
  't',
  'caller',
  'callee',
  'cls',
  'country',
  'att',
  'mis',
  'region',
  'cell',
  'device',
  'age',
  'talk',
  'cause',
  'rx',
] as const;

const N_FIELDS = PACKED_FIELDS.length;

const TYPE: Record<CallEventKind, string> = { ATTEMPT: 'A', ANSWERED: 'N', ENDED: 'E' };
const CLS: Record<CallerClassName, string> = {
  MOBILE: 'M',
  FIXED: 'F',
  VIRTUAL_OPERATOR: 'V',
  INTERNATIONAL: 'I',
  SERVICE: 'S',
  UNKNOWN: 'U',
};
const ATT: Record<Attestation, string> = { A: 'A', B: 'B', C: 'C', UNVERIFIED: 'U' };
const AGE: Record<AgeBandName, string> = {
  UNDER_18: '0',
  '18_28': '1',
  '29_45': '2',
  '46_64': '3',
  '65_PLUS': '4',
  UNKNOWN: 'U',
};

function invert<K extends string>(m: Record<K, string>): Record<string, K> {
  const out: Record<string, K> = {};
  for (const k of Object.keys(m) as K[]) out[m[k]] = k;
  return out;
}
const TYPE_OF = invert(TYPE);
const CLS_OF = invert(CLS);
const ATT_OF = invert(ATT);
const AGE_OF = invert(AGE);

/** One event as a packed line (no trailing separator). */
export function packEvent(e: HandoffEvent): string {
  return (
    `${e.id}\t${e.call}\t${TYPE[e.type]}\t${e.t}\t${e.caller}\t${e.callee}\t${CLS[e.cls]}\t${e.country}\t` +
    `${ATT[e.att]}\t${e.mis ? 1 : 0}\t${e.region}\t${e.cell ?? ''}\t${e.device ?? ''}\t${AGE[e.age]}\t` +
    `${e.talk ?? ''}\t${e.cause ?? ''}\t${e.rx}`
  );
}

/** Events as one packed payload (the value of stream entry field `p`). */
export function packEvents(events: readonly HandoffEvent[]): string {
  let s = '';
  for (let i = 0; i < events.length; i++) s += (i ? '\n' : '') + packEvent(events[i]);
  return s;
}

/** The enum codes are one ASCII character: a table by char code (undefined: unknown). */
function byCode<K extends string>(m: Record<string, K>): (K | undefined)[] {
  const out = new Array<K | undefined>(128).fill(undefined);
  for (const [c, k] of Object.entries(m)) out[c.charCodeAt(0)] = k;
  return out;
}
const TYPE_AT = byCode(TYPE_OF);
const CLS_AT = byCode(CLS_OF);
const ATT_AT = byCode(ATT_OF);
const AGE_AT = byCode(AGE_OF);

/** where each field of the line being decoded starts and ends (reused: one decode at a time) */
const starts = new Int32Array(N_FIELDS);
const ends = new Int32Array(N_FIELDS);

function fieldsIn(payload: string, from: number, to: number): number {
  let n = 1;
  for (let i = payload.indexOf('\t', from); i >= 0 && i < to; i = payload.indexOf('\t', i + 1)) n++;
  return n;
}

/** The one-character code of field k, or 0 when the field is not one character long. */
function codeOf(payload: string, k: number): number {
  return ends[k] - starts[k] === 1 ? payload.charCodeAt(starts[k]) : 0;
}

/**
 * A decimal field as a number: digits are read in place (event times are 13 of them, well inside
 * 2^53); anything else is left to Number, as before ('' is 0).
 */
function numberOf(payload: string, k: number): number {
  const a = starts[k];
  const b = ends[k];
  if (a === b || b - a > 15) return Number(payload.substring(a, b));
  let v = 0;
  for (let i = a; i < b; i++) {
    const d = payload.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number(payload.substring(a, b));
    v = v * 10 + d;
  }
  return v;
}

function stringOf(payload: string, k: number): string {
  return payload.substring(starts[k], ends[k]);
}

/**
 * Field k as a string of its own. A substring of 13 characters or more is, in V8, a view of the
 * whole payload (a sliced string) that keeps the payload alive as long as it lives; the numbers'
 * tokens outlive their entry (the detector keys the numbers it holds, their day's TTL marks and the
 * windows waiting to be written by them). A heap snapshot found some 4,000 payloads (16.5 MB) alive,
 * kept by these tokens and by rounds waiting whole for their acknowledgement. A one-character
 * concatenation flattened and cut again copies the token into a string of its own, about 15 ns.
 */
function ownStringOf(payload: string, k: number): string {
  return (' ' + payload.substring(starts[k], ends[k])).slice(1);
}

function optionalString(payload: string, k: number): string | undefined {
  return ends[k] === starts[k] ? undefined : payload.substring(starts[k], ends[k]);
}

/**
 * The events of a packed payload. A line with the wrong number of fields or an unknown enum code
 * throws: the entry is malformed as a whole (the consumer drops and counts it).
 *
 * One pass with indexOf, and a substring only for the string fields kept: splitting made an array
 * and a string for each of a line's 17 fields, the largest of the detector's allocations per event
 * outside its windows (issue 13). Every event gets every field, an absent optional one as
 * undefined, so that all have one shape and the code reading them stays monomorphic.
 */
export function unpackEvents(payload: string): HandoffEvent[] {
  if (payload === '') return [];
  const out: HandoffEvent[] = [];
  const end = payload.length;
  let o = 0;
  while (o <= end) {
    let lineEnd = payload.indexOf('\n', o);
    if (lineEnd < 0) lineEnd = end;
    const lineStart = o;
    for (let k = 0; k < N_FIELDS; k++) {
      const tab = payload.indexOf('\t', o);
      const last = k === N_FIELDS - 1;
      const e = last ? lineEnd : tab;
      if (last ? tab >= 0 && tab < lineEnd : tab < 0 || tab > lineEnd) {
        const n = fieldsIn(payload, lineStart, lineEnd);
        throw new Error(`packed event ${out.length} has ${n} fields, not ${N_FIELDS}`);
      }
      starts[k] = o;
      ends[k] = e;
      o = e + 1;
    }
    const type = TYPE_AT[codeOf(payload, 2)];
    const cls = CLS_AT[codeOf(payload, 6)];
    const att = ATT_AT[codeOf(payload, 8)];
    const age = AGE_AT[codeOf(payload, 13)];
    if (!type || !cls || !att || !age) throw new Error(`packed event ${out.length} has an unknown enum code`);
    out.push({
      id: stringOf(payload, 0),
      call: stringOf(payload, 1),
      type,
      t: numberOf(payload, 3),
      caller: ownStringOf(payload, 4),
      callee: ownStringOf(payload, 5),
      cls,
      country: stringOf(payload, 7),
      att,
      mis: codeOf(payload, 9) === 49, // '1'
      region: stringOf(payload, 10),
      cell: optionalString(payload, 11),
      device: optionalString(payload, 12),
      age,
      talk: ends[14] === starts[14] ? undefined : numberOf(payload, 14),
      cause: optionalString(payload, 15),
      rx: numberOf(payload, 16),
    });
    o = lineEnd + 1;
  }
  return out;
}
