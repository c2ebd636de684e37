/**
 * The one check for clear phone numbers in text and identifiers, shared by ingest (ids), the
 * alert worker (job fields and reason texts), the console (notes, escalation and list reasons)
 * and the log redaction. Text is NFKC-normalised first (full-width digits, full-width plus and
 * hyphens, ideographic spaces become ASCII) and digits of any script (\p{Nd}) count.
 *
 * Free text: a run of digits, optionally with '+' and with up to three separators (space, dash, dot,
 * parentheses, middle dot) between digits, is a number when it holds 7 or more digits, whatever
 * surrounds it (`id13812345678`, `13812345678.`, `138-1234-5678`, `138 1234 5678`, `(028) 8765 4321`).
 * ISO dates, clock times and IPv4 addresses are not numbers. Region codes (six digits) and counters survive.
 *
 * Identifiers (call_id, event_id, callee_cell): separators (also `_`, `:`, `/`) are ignored and 11
 * or more digits in a row, or '+' and 8 or more, mean a number (a switch that embeds the caller's
 * number in its call id). Fewer, so counters and most random hex ids pass. A UUID in its canonical
 * form (8-4-4-4-12 hex digits, any case) with at least one hex letter is an identifier whatever
 * its digits: with its dashes removed, 5.7 % of random UUIDs hold 11 digits in a row, and a switch
 * that writes UUIDs does not put numbers in them.
 */
const SEP = '[\\s\\-.()\\u00B7]';
const DATE_TIME =
  '\\p{Nd}{4}-\\p{Nd}{2}-\\p{Nd}{2}(?:[T ]\\p{Nd}{2}:\\p{Nd}{2}(?::\\p{Nd}{2}(?:\\.\\p{Nd}+)?)?)?|\\p{Nd}{1,2}:\\p{Nd}{2}(?::\\p{Nd}{2})?';
// IPv4 addresses (logs name hosts) are not numbers either
const IPV4 = '(?<![\\p{Nd}.])\\p{Nd}{1,3}(?:\\.\\p{Nd}{1,3}){3}(?!\\p{Nd}|\\.\\p{Nd})';
const RUN = `\\+?\\(?\\p{Nd}(?:${SEP}{0,3}\\p{Nd})*`;
const SCAN = new RegExp(`(${DATE_TIME}|${IPV4})|(${RUN})`, 'gu');
const DIGIT = /\p{Nd}/gu;
const ID_SEPARATORS = /[\s\-.()_:/\u00B7]/gu;
const ID_NUMBER = /\p{Nd}{11,}|\+\p{Nd}{8,}/u;

export const REDACTED_NUMBER = '[redacted-number]';

function digitCount(s: string): number {
  return s.match(DIGIT)?.length ?? 0;
}

/** The text (NFKC-normalised) with every phone-number-like run replaced. */
export function redactClearNumbers(text: string, replacement = REDACTED_NUMBER): string {
  return text
    .normalize('NFKC')
    .replace(SCAN, (m: string, date: string | undefined) =>
      date === undefined && digitCount(m) >= 7 ? replacement : m,
    );
}

/** True if free text holds anything that looks like a phone number. */
export function containsClearNumber(text: string): boolean {
  const n = text.normalize('NFKC');
  for (const m of n.matchAll(SCAN)) if (m[1] === undefined && digitCount(m[0]) >= 7) return true;
  return false;
}

/** 8-4-4-4-12 hex digits with at least one letter (an all-digit one is judged like any other id). */
function isUuid(id: string): boolean {
  let letter = false;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45 /* - */) return false;
    } else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) letter = true;
    else if (c < 48 || c > 57) return false;
  }
  return letter;
}

/** The ASCII characters ID_SEPARATORS removes: \s (tab to carriage return, space) - . ( ) _ : / */
const ID_SEPARATOR_ASCII = ((): boolean[] => {
  const one = new RegExp(ID_SEPARATORS.source, 'u'); // without /g: test() keeps no position
  return Array.from({ length: 128 }, (_, c) => one.test(String.fromCharCode(c)));
})();

/**
 * True if an identifier embeds something that looks like a phone number. ASCII identifiers (nearly
 * all: ingest checks two or three per event) are decided in one pass over their characters, which
 * is what the normalisation, the separators' removal and the pattern amount to for ASCII (NFKC
 * leaves it as it is, and its only digits are 0-9); anything else takes that full way.
 */
export function idLooksLikeNumber(id: string): boolean {
  if (id.length === 36 && isUuid(id)) return false;
  let run = 0;
  let plus = false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c > 127) return ID_NUMBER.test(id.normalize('NFKC').replace(ID_SEPARATORS, ''));
    if (c >= 48 && c <= 57) {
      run++;
      if (run >= 11 || (plus && run >= 8)) return true;
    } else if (c === 43 /* + */) {
      run = 0;
      plus = true;
    } else if (!ID_SEPARATOR_ASCII[c]) {
      run = 0;
      plus = false;
    }
  }
  return false;
}
