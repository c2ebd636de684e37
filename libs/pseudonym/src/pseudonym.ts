import { createHmac } from 'node:crypto';
import { CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Pseudonym tokens: `p1.<keyId>.<digest>`
 *   p1      format version
 *   keyId   the carrier's key id (1-16 of [A-Za-z0-9_-], not six digits in a row), so keys can rotate
 *   digest  base64url of the first 16 bytes of HMAC-SHA256(carrier key, normalised identifier)
 *
 * A plain hash of a phone number is reversible by enumerating the numbering plan; a keyed HMAC is
 * not without the key, which never leaves the carrier. 128 bits keep collisions out of reach for
 * any realistic population while keeping Redis keys short.
 */
export const TOKEN_VERSION = 'p1';
export const DIGEST_BYTES = 16;
const DIGEST_CHARS = 22; // base64url of 16 bytes, unpadded
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
export const TOKEN_PATTERN = /^p1\.([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{22})$/;
const SIX_DIGITS = /\d{6,}/;

export class PseudonymError extends Error {}

/**
 * E.164: '+' and 8 to 15 digits; spaces, dashes, dots and parentheses are dropped first. With a
 * default country (ISO 3166 alpha-2, e.g. CN), a number without '+' or '00' is read in that
 * country's national format (`138 1234 5678`, `(028) 8765 4321`, full-width digits) by
 * libphonenumber-js and must be a valid number there; the same number thus gets the same token
 * however the switch wrote it.
 */
export function normaliseE164(raw: string, defaultCountry?: string): string {
  const compact = raw
    .normalize('NFKC')
    .trim()
    .replace(/[\s\-().]/g, '');
  const international = compact.startsWith('+') || compact.startsWith('00');
  if (!international && defaultCountry) {
    const n = parsePhoneNumberFromString(compact, defaultCountry as CountryCode);
    if (!n || !n.isValid())
      throw new PseudonymError(`not a valid ${defaultCountry} number in national format`);
    return n.number;
  }
  const withPlus = compact.startsWith('00') ? '+' + compact.slice(2) : compact;
  if (!/^\+[1-9]\d{7,14}$/.test(withPlus)) {
    throw new PseudonymError(
      defaultCountry
        ? 'not an E.164 number (expected + and 8-15 digits)'
        : 'not an E.164 number (expected + and 8-15 digits; national formats need a default country)',
    );
  }
  return withPlus;
}

/** An ISO 3166 alpha-2 code libphonenumber knows (for --default-country). */
export function isKnownCountry(code: string): boolean {
  return isSupportedCountry(code);
}

export function validateKeyId(keyId: string): void {
  if (!KEY_ID.test(keyId) || SIX_DIGITS.test(keyId)) {
    throw new PseudonymError('key id must be 1-16 characters of [A-Za-z0-9_-] without six digits in a row');
  }
}

export class Pseudonymiser {
  constructor(
    private readonly key: Buffer,
    readonly keyId: string,
  ) {
    if (key.length < 32) throw new PseudonymError('the carrier key must be at least 32 bytes');
    validateKeyId(keyId);
  }

  /** Token of an already-normalised identifier (an E.164 number, an IMEI, a local number plan id). */
  token(identifier: string): string {
    const digest = createHmac('sha256', this.key)
      .update(identifier, 'utf8')
      .digest()
      .subarray(0, DIGEST_BYTES);
    return `${TOKEN_VERSION}.${this.keyId}.${digest.toString('base64url')}`;
  }

  phoneToken(rawNumber: string, defaultCountry?: string): string {
    return this.token(normaliseE164(rawNumber, defaultCountry));
  }

  /** IMEIs are hashed on their 14-digit TAC+serial, so the check digit or SV suffix do not matter. */
  deviceToken(imei: string): string {
    const digits = imei.replace(/\D/g, '');
    if (digits.length < 14) throw new PseudonymError('an IMEI has at least 14 digits');
    return this.token('imei:' + digits.slice(0, 14));
  }
}

export type PseudonymVerdict = 'ok' | 'clear_number' | 'malformed';

/**
 * What ingest accepts in a pseudonym field: a well-formed token, nothing else. Anything that looks
 * like a clear number (six digits in a row, an E.164 string) is singled out so it can be refused
 * with its own reason and never stored or logged.
 */
export function classifyPseudonym(value: string): PseudonymVerdict {
  const m = TOKEN_PATTERN.exec(value);
  if (m && !SIX_DIGITS.test(m[1])) return 'ok';
  if (looksLikeClearNumber(value)) return 'clear_number';
  return 'malformed';
}

export function looksLikeClearNumber(value: string): boolean {
  const compact = value.replace(/[\s\-().]/g, '');
  return /^\+\d{6,}/.test(compact) || SIX_DIGITS.test(compact);
}

export { DIGEST_CHARS };
