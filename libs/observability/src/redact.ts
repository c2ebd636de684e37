import { redactClearNumbers } from '@eagle-eye/pseudonym';

/**
 * Log hygiene: whatever reaches a log line passes through here, so a clear phone number that slips
 * into a message (an operator's search, a rejected payload) is never written out. The check is
 * the one shared with ingest, the worker and the console (libs/pseudonym clear-number.ts):
 * NFKC-normalised, 7 or more digits with or without separators, whatever surrounds them.
 */
export function redactPhoneNumbers(text: string): string {
  return redactClearNumbers(text);
}
