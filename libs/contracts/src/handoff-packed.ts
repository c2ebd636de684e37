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

/**
 * The events of a packed payload. A line with the wrong number of fields or an unknown enum code
 * throws: the entry is malformed as a whole (the consumer drops and counts it).
 */
export function unpackEvents(payload: string): HandoffEvent[] {
  if (payload === '') return [];
  const lines = payload.split('\n');
  const out = new Array<HandoffEvent>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i].split('\t');
    if (f.length !== N_FIELDS) throw new Error(`packed event ${i} has ${f.length} fields, not ${N_FIELDS}`);
    const type = TYPE_OF[f[2]];
    const cls = CLS_OF[f[6]];
    const att = ATT_OF[f[8]];
    const age = AGE_OF[f[13]];
    if (!type || !cls || !att || !age) throw new Error(`packed event ${i} has an unknown enum code`);
    const ev: HandoffEvent = {
      id: f[0],
      call: f[1],
      type,
      t: Number(f[3]),
      caller: f[4],
      callee: f[5],
      cls,
      country: f[7],
      att,
      mis: f[9] === '1',
      region: f[10],
      age,
      rx: Number(f[16]),
    };
    if (f[11] !== '') ev.cell = f[11];
    if (f[12] !== '') ev.device = f[12];
    if (f[14] !== '') ev.talk = Number(f[14]);
    if (f[15] !== '') ev.cause = f[15];
    out[i] = ev;
  }
  return out;
}
