/** Characters of a token's segments: [A-Za-z0-9_-] (base64url). */
function tokenChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** `p1.<1-16 token chars>.<22 token chars>`, checked without a regular expression (once per event and side). */
function isToken(s: string): boolean {
  const n = s.length;
  // 'p1.' + 1..16 + '.' + 22
  if (n < 27 || n > 42 || s.charCodeAt(0) !== 112 || s.charCodeAt(1) !== 49 || s.charCodeAt(2) !== 46)
    return false;
  if (s.charCodeAt(n - 23) !== 46) return false;
  for (let i = 3; i < n; i++) if (i !== n - 23 && !tokenChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Short stand-in for a number inside another number's hash (familiarity, suspect callers): the last
 * 11 characters (66 bits) of a token's HMAC digest are already uniformly random. Anything else
 * (never accepted by ingest) is hashed.
 */
export function numberFp(token: string): string {
  if (isToken(token)) return token.slice(-11);
  return hash64(token);
}

/** A call's fingerprint: its id is unique per carrier, so both go in (hash64 of `carrier/call`). */
export function callFp(carrierId: string, callId: string): string {
  // FNV-1a over carrierId, '/', callId without building the joined string
  let h = fnvStep(0x811c9dc5, carrierId);
  h = Math.imul(h ^ 47, 0x01000193);
  return pair(fnvStep(h, callId));
}

function hash64(s: string): string {
  return pair(fnvStep(0x811c9dc5, s));
}

/** FNV-1a (as fnv1a32) of `s`, continued from state `h`, before the final unsigned conversion. */
function fnvStep(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** fnv1a32(s) and fnv1a32(s + '\0') from the state after s: the second is one more step with 0. */
function pair(h: number): string {
  return base36(h >>> 0) + '.' + base36(Math.imul(h, 0x01000193) >>> 0);
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
/** base-36 digit pairs, 00 to zz */
const PAIRS = Array.from({ length: 36 * 36 }, (_, i) => DIGITS[Math.floor(i / 36)] + DIGITS[i % 36]);

/** `n.toString(36)` for an unsigned 32-bit n, two digits at a time (toString(36) costs 0.2-0.9 us). */
function base36(n: number): string {
  let s = '';
  while (n >= 1296) {
    s = PAIRS[n % 1296] + s;
    n = Math.floor(n / 1296);
  }
  return (n < 36 ? DIGITS[n] : PAIRS[n]) + s;
}
