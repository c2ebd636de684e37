import { fnv1a32 } from '@eagle-eye/contracts';

const TOKEN = /^p1\.[A-Za-z0-9_-]{1,16}\.([A-Za-z0-9_-]{22})$/;

/**
 * Short stand-in for a number inside another number's hash (familiarity, suspect callers): the last
 * 11 characters (66 bits) of a token's HMAC digest are already uniformly random. Anything else
 * (never accepted by ingest) is hashed.
 */
export function numberFp(token: string): string {
  const m = TOKEN.exec(token);
  if (m) return m[1].slice(-11);
  return hash64(token);
}

/** A call's fingerprint: its id is unique per carrier, so both go in. */
export function callFp(carrierId: string, callId: string): string {
  return hash64(`${carrierId}/${callId}`);
}

function hash64(s: string): string {
  return fnv1a32(s).toString(36) + '.' + fnv1a32(`${s}\u0000`).toString(36);
}
