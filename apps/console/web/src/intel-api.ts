// Types of the intelligence, reports and case-timeline endpoints as the browser receives them
// (type-only imports of the server's own interfaces: nothing of the server is bundled).
import type { NumberIntel, Overview } from '../../src/intel/intel.repository';
import type { ReportedNumber, ReportRow } from '../../src/reports/reports.repository';
import type { CaseTimeline } from '../../src/intel/case-timeline.repository';

export type { CaseTimeline, NumberIntel, Overview, ReportedNumber, ReportRow };

/** `YYYY-MM-DDTHH:00` of an instant in `timeZone`, as /api/intel/overview labels its hours. */
export function hourLabel(ms: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(ms))) p[x.type] = x.value;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:00`;
}

/**
 * Every hour of [from, to) with its count (hours without alerts count 0), and the same by day: the
 * server lists only hours that had alerts.
 */
export function fillTrend(
  byHour: { hour: string; alerts: number }[],
  from: string,
  to: string,
  timeZone: string,
): { hours: { hour: string; alerts: number }[]; days: { day: string; alerts: number }[] } {
  const counts = new Map(byHour.map((h) => [h.hour, h.alerts]));
  const hours: { hour: string; alerts: number }[] = [];
  const seen = new Set<string>();
  const end = Date.parse(to);
  for (let t = Math.floor(Date.parse(from) / 3_600_000) * 3_600_000; t < end; t += 3_600_000) {
    const h = hourLabel(t, timeZone);
    if (seen.has(h)) continue; // the repeated hour when clocks go back
    seen.add(h);
    hours.push({ hour: h, alerts: counts.get(h) ?? 0 });
  }
  const days = new Map<string, number>();
  for (const h of hours) days.set(h.hour.slice(0, 10), (days.get(h.hour.slice(0, 10)) ?? 0) + h.alerts);
  return { hours, days: [...days].map(([day, alerts]) => ({ day, alerts })) };
}

/**
 * Alerts per prefecture drawn on the map (a county code counts under its prefecture), and the
 * regions that are not on it (no region, or outside Sichuan).
 */
export function byPrefecture(
  byRegion: { region: string; alerts: number }[],
  mapCodes: readonly string[],
): { onMap: Map<string, number>; offMap: { region: string; alerts: number }[] } {
  const codes = new Set(mapCodes);
  const onMap = new Map<string, number>();
  const offMap: { region: string; alerts: number }[] = [];
  for (const r of byRegion) {
    const prefecture = /^\d{6}$/.test(r.region) ? `${r.region.slice(0, 4)}00` : '';
    if (codes.has(prefecture)) onMap.set(prefecture, (onMap.get(prefecture) ?? 0) + r.alerts);
    else offMap.push(r);
  }
  return { onMap, offMap };
}
