/**
 * Log hygiene: whatever reaches a log line passes through here, so a clear phone number that slips
 * into a message (an operator's search, a rejected payload) is never written out.
 * Seven or more digits in a row, or '+' with six or more, look like a number; region codes (six
 * digits) and short counters survive.
 */
const PHONE_LIKE = /\+[\d\s-]{6,}\d|(?<![\w.])\d{7,}(?![\w.])|\b00\d{6,}\b/g;

export function redactPhoneNumbers(text: string): string {
  return text.replace(PHONE_LIKE, '[redacted-number]');
}
