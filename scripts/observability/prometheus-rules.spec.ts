import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '@eagle-eye/testing';
import { DASHBOARD, dashboardExpressions, metricNamesIn, ruleExpressions, RULES } from './metric-names';

/**
 * deploy/prometheus/eagle-eye.rules.yml passes `promtool check rules` (Debian's prometheus package,
 * which `npm test` installs as root; scripts/lib.sh) and its key alerts fire on made-up series
 * (`promtool test rules`); deploy/grafana/eagle-eye.json is a well-formed dashboard. That every
 * metric they name exists is checked against the running apps (metrics-exist.e2e-spec.ts).
 */
function promtool(args: string[], cwd = REPO_ROOT): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `promtool is missing (${r.error.message}): install Debian's prometheus package (npm test does, as root)`,
    );
  }
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('Prometheus rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES(REPO_ROOT)]);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('cover the conditions an SRE is paged for', () => {
    const text = readFileSync(RULES(REPO_ROOT), 'utf8');
    for (const alert of [
      'EagleEyeHandoffLagGrowing',
      'EagleEyeAckLatencyHigh',
      'EagleEyeAlertDeadLetters',
      'EagleEyeSweepLagHigh',
      'EagleEyeCarrierSilent',
      'EagleEyeAppDown',
      'EagleEyeReplicaDown',
    ]) {
      expect(text).toContain(`alert: ${alert}\n`);
    }
  });

  describe('fire on made-up series (promtool test rules)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'ee-promtool-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('carrier silent, hand-off lag growing, dead letters, app down', () => {
      // promtool compares annotations too: test the rules without them (their text is prose)
      const rules = parse(readFileSync(RULES(REPO_ROOT), 'utf8')) as {
        groups: { rules: { annotations?: unknown }[] }[];
      };
      for (const g of rules.groups) for (const r of g.rules) delete r.annotations;
      writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules));
      const test = {
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // carrier-a: 600 events a minute for a day, then nothing; carrier-b goes on
              {
                series:
                  'eagleeye_ingest_events_total{carrier="carrier-a",result="accepted",service="ingest"}',
                values: '0+600x1440 864000x60',
              },
              {
                series:
                  'eagleeye_ingest_events_total{carrier="carrier-b",result="accepted",service="ingest"}',
                values: '0+600x1500',
              },
              // the hand-off lag climbs by 100 entries a minute
              {
                series: 'eagleeye_ingest_handoff_lag_entries{partition="0",service="ingest"}',
                values: '0+100x1500',
              },
              {
                series: 'eagleeye_alert_dead_letters_total{name="raise",service="alert-worker"}',
                values: '0x1440 1x60',
              },
              // the escalation sweep fails every second from minute 1440
              {
                series: 'eagleeye_alert_escalation_sweeps_total{result="error",service="alert-worker"}',
                values: '0x1440 0+60x60',
              },
              { series: 'eagleeye_build_info{app="ingest",version="0.1.0"}', values: '1x1500' },
              { series: 'eagleeye_build_info{app="detector",version="0.1.0"}', values: '1x1500' },
              { series: 'eagleeye_build_info{app="alert-worker",version="0.1.0"}', values: '1x1500' },
            ],
            alert_rule_test: [
              {
                eval_time: '1490m',
                alertname: 'EagleEyeCarrierSilent',
                exp_alerts: [{ exp_labels: { severity: 'critical', carrier: 'carrier-a' } }],
              },
              {
                eval_time: '1490m',
                alertname: 'EagleEyeHandoffLagGrowing',
                exp_alerts: [{ exp_labels: { severity: 'critical' } }],
              },
              {
                eval_time: '1450m',
                alertname: 'EagleEyeAlertDeadLetters',
                exp_alerts: [{ exp_labels: { severity: 'critical' } }],
              },
              {
                eval_time: '1438m',
                alertname: 'EagleEyeEscalationSweepFailing',
                exp_alerts: [],
              },
              {
                eval_time: '1450m',
                alertname: 'EagleEyeEscalationSweepFailing',
                exp_alerts: [{ exp_labels: { severity: 'critical' } }],
              },
              {
                eval_time: '1490m',
                alertname: 'EagleEyeAppDown',
                exp_alerts: [{ exp_labels: { severity: 'critical', app: 'console' } }],
              },
            ],
          },
        ],
      };
      const file = join(dir, 'eagle-eye.test.yml');
      writeFileSync(file, JSON.stringify(test)); // JSON is YAML
      const r = promtool(['test', 'rules', file], dir);
      expect(r.out).toMatch(/SUCCESS/);
      expect(r.status).toBe(0);
    });
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD(REPO_ROOT), 'utf8')) as {
    uid: string;
    panels: {
      id: number;
      type: string;
      title: string;
      targets?: { expr: string; datasource: { uid: string } }[];
    }[];
  };

  it('has unique panel ids and queries the chosen Prometheus data source', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource.uid).toBe('${datasource}');
    }
  });

  it('shows what the issue asks for', () => {
    const names = new Set(dashboardExpressions(DASHBOARD(REPO_ROOT)).flatMap(metricNamesIn));
    for (const m of [
      'eagleeye_ingest_events_total',
      'eagleeye_ingest_ack_latency_seconds_bucket',
      'eagleeye_ingest_handoff_lag_entries',
      'eagleeye_detector_events_total',
      'eagleeye_detector_detection_latency_seconds_bucket',
      'eagleeye_detector_alerts_total',
      'eagleeye_detector_sweep_lag_seconds_bucket',
      'eagleeye_alert_queue_jobs',
      'eagleeye_alert_dead_letters_total',
      'eagleeye_alert_end_to_end_seconds_bucket',
      'eagleeye_console_connected_clients',
    ]) {
      expect(names).toContain(m);
    }
  });
});

describe('metricNamesIn', () => {
  it('finds the metric names of a PromQL expression, not functions or labels', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le) (rate(eagleeye_x_seconds_bucket{result="a"}[5m]))) > 1 and up{job="e"} == 0 or nodejs_heap_size_used_bytes',
      ),
    ).toEqual(['eagleeye_x_seconds_bucket', 'up', 'nodejs_heap_size_used_bytes']);
    expect(ruleExpressions(RULES(REPO_ROOT)).length).toBeGreaterThan(5);
  });
});
