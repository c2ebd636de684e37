import type { AlertReason, AlertView } from '@eagle-eye/contracts/alerts';

/**
 * How the queue is cut and ordered (issue 17, "urgency first"): victims still on the line come
 * first, the longest call first (the money moves late in a long call) then the highest score; then
 * the victim alerts whose call ended, open before closed, newest first; suspect-number alerts (a SIM
 * to re-verify, nobody to call right now) in a tab of their own, critical then newest.
 */
export interface QueueSections {
  live: AlertView[];
  ended: AlertView[];
  suspects: AlertView[];
}

export function isLive(a: AlertView): boolean {
  return (
    a.kind === 'victim_on_call' &&
    a.state !== 'closed' &&
    a.callAnsweredAt !== null &&
    a.callEndedAt === null &&
    a.talkTimeS === null
  );
}

/** Seconds on the call so far (running) or in all (ended); null when never answered. */
export function secondsOnCall(a: AlertView, nowMs: number): number | null {
  if (!a.callAnsweredAt) return null;
  if (a.talkTimeS !== null) return a.talkTimeS;
  const end = a.callEndedAt ? Date.parse(a.callEndedAt) : nowMs;
  return Math.max(0, (end - Date.parse(a.callAnsweredAt)) / 1000);
}

const SEVERITY = { critical: 2, warning: 1 } as const;

export function sections(
  alerts: Iterable<AlertView>,
  opts: { showClosed: boolean; region: string },
): QueueSections {
  const out: QueueSections = { live: [], ended: [], suspects: [] };
  for (const a of alerts) {
    if (opts.region && a.region !== opts.region) continue;
    if (!opts.showClosed && a.state === 'closed') continue;
    if (a.kind === 'suspect_number') out.suspects.push(a);
    else if (isLive(a)) out.live.push(a);
    else out.ended.push(a);
  }
  const newest = (x: AlertView, y: AlertView) => Date.parse(y.raisedAt) - Date.parse(x.raisedAt);
  // answered earliest = longest on the call; a call's answer time does not change, so rows keep still
  out.live.sort(
    (x, y) =>
      Date.parse(x.callAnsweredAt ?? x.raisedAt) - Date.parse(y.callAnsweredAt ?? y.raisedAt) ||
      y.score - x.score,
  );
  out.ended.sort((x, y) => Number(x.state === 'closed') - Number(y.state === 'closed') || newest(x, y));
  out.suspects.sort(
    (x, y) =>
      Number(x.state === 'closed') - Number(y.state === 'closed') ||
      SEVERITY[y.severity] - SEVERITY[x.severity] ||
      newest(x, y),
  );
  return out;
}

/** The reason that contributed most (an enforced rule before a report-only one); null without reasons. */
export function topReason(a: Pick<AlertView, 'reasons'>): AlertReason | null {
  const [top] = [...a.reasons].sort(
    (x, y) => Number(!!x.reportOnly) - Number(!!y.reportOnly) || y.points - x.points,
  );
  return top ?? null;
}
