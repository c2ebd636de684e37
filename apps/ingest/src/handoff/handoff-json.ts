import { HandoffEvent } from '@eagle-eye/contracts';

/**
 * The JSON of one HandoffEvent, the same as JSON.stringify gives, several times faster on the hot
 * path. It relies on the validator: every string field is restricted to characters that need no
 * JSON escaping ([A-Za-z0-9._:-], base64url, fixed enum names); a property test holds it to that.
 */
export function handoffEventJson(e: HandoffEvent): string {
  let s = `{"id":"${e.id}","call":"${e.call}","type":"${e.type}","t":${e.t},"caller":"${e.caller}","callee":"${e.callee}","cls":"${e.cls}","country":"${e.country}","att":"${e.att}","mis":${e.mis},"region":"${e.region}"`;
  if (e.cell !== undefined) s += `,"cell":"${e.cell}"`;
  if (e.device !== undefined) s += `,"device":"${e.device}"`;
  s += `,"age":"${e.age}"`;
  if (e.talk !== undefined) s += `,"talk":${e.talk}`;
  if (e.cause !== undefined) s += `,"cause":"${e.cause}"`;
  return s + `,"rx":${e.rx}}`;
}
