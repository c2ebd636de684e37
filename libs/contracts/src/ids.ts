/**
 * The one definition of every identifier that crosses a service boundary. Ingest validates
 * carriers' input with these, the alert worker re-validates jobs with them, the console validates
 * queries and admin input with them: a value one accepts, the others accept too.
 */

/** Carrier id: 2-32 of a-z 0-9 -, starting with a letter or digit (carriers.id, API keys, mTLS SAN). */
export const CARRIER_ID = /^[a-z0-9][a-z0-9-]{1,31}$/;
export const CARRIER_ID_SOURCE = '[a-z0-9][a-z0-9-]{1,31}';

/** Region (administrative division code or the carrier's own region name): 1-16 of A-Z a-z 0-9 _ -. */
export const REGION = /^[A-Za-z0-9_-]{1,16}$/;

/** Call id and event id as a switch sends them: 1-64 of A-Z a-z 0-9 . _ : - (no phone numbers, see libs/pseudonym). */
export const CALL_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const EVENT_ID = CALL_ID;

/** Callee cell id: 1-32 of A-Z a-z 0-9 . _ : -. */
export const CELL_ID = /^[A-Za-z0-9._:-]{1,32}$/;

/** Pseudonym token: p1.<keyId>.<22 base64url characters of HMAC digest> (libs/pseudonym). */
export const PSEUDONYM_TOKEN = /^p1\.([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{22})$/;
