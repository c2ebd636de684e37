// Formatting that does not depend on the browser: times in the deployment's zone, call durations,
// shortened tokens. Pure functions (format.spec.ts).

/** `YYYY-MM-DD HH:mm:ss` in `timeZone` (24 h, unambiguous for every desk). */
export function formatDateTime(iso: string | number | Date, timeZone: string): string {
  const p = parts(iso, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** `HH:mm:ss` in `timeZone`. */
export function formatTime(iso: string | number | Date, timeZone: string): string {
  const p = parts(iso, timeZone);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** `YYYY-MM-DD` in `timeZone`. */
export function formatDate(iso: string | number | Date, timeZone: string): string {
  const p = parts(iso, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function parts(value: string | number | Date, timeZone: string): Record<string, string> {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(value))) out[p.type] = p.value;
  return out;
}

/** `m:ss` or `h:mm:ss`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** `p1.key.abcd…wxyz`: fits a table cell; the full token is one click away (copy button). */
export function shortToken(token: string | null | undefined): string {
  if (!token) return '—';
  const parts = token.split('.');
  const d = parts[2] ?? token;
  return `${parts[0]}.${parts[1]}.${d.slice(0, 4)}…${d.slice(-4)}`;
}

// A pseudonym token as carriers send them (one definition, in libs/contracts): never a clear number.
export { PSEUDONYM_TOKEN as NUMBER_TOKEN } from '../../../../libs/contracts/src/ids';
