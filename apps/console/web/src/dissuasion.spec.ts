import type { AlertReason } from '@eagle-eye/contracts/alerts';
import { en } from './i18n/en';
import { zhCN } from './i18n/zh-CN';
import { SCAM_TYPES, scamTypes } from './dissuasion';

const r = (rule: string, text = '', reportOnly = false): AlertReason => ({
  rule,
  points: 10,
  text,
  reportOnly,
});

describe('dissuasion scripts by scam type', () => {
  it('names the most specific scam type first, each once', () => {
    expect(
      scamTypes([
        r('fanout', 'called 143 different people in the last hour'),
        r('ring_relay', '3 different suspect numbers reached this person within the hour'),
        r('display_mismatch', 'displayed number differs from the real one'),
        r('spoofed_origin', 'call entered from KH but displays a domestic number'),
      ]),
    ).toEqual(['police_impersonation', 'spoofed_number', 'call_centre']);
    expect(
      scamTypes([r('callback_to_one_ring', 'called back a number that rang 40 different people')]),
    ).toEqual(['one_ring_callback']);
    expect(
      scamTypes([r('graylist', 'number is on the graylist: reported as a fake police officer')]),
    ).toEqual(['police_impersonation', 'listed_number']);
  });

  it('tells a minor from an older victim by the age band the detector names', () => {
    expect(scamTypes([r('vulnerable_age', 'callee is aged under 18, a band scammers target')])).toEqual([
      'minor_targeted',
    ]);
    expect(scamTypes([r('vulnerable_age', 'callee is aged 65 or older, a band scammers target')])).toEqual([
      'elderly_targeted',
    ]);
  });

  it('puts what only report-only rules suggest after what decided the alert, and always has a script', () => {
    expect(scamTypes([r('sim_farm', 'handset seen with 9 SIMs', true), r('fanout')])).toEqual([
      'call_centre',
      'disposable_number',
    ]);
    expect(scamTypes([r('long_call', 'on the phone with a suspect stranger for over 3 min')])).toEqual([
      'call_centre',
    ]);
    expect(scamTypes([])).toEqual(['call_centre']);
  });

  it('has a title and a script for every type in both languages', () => {
    for (const t of SCAM_TYPES) {
      for (const messages of [en, zhCN]) {
        const m = (messages.dissuasion as Record<string, { title: string; script: string }>)[t];
        expect([t, m?.title.length > 0, m?.script.length > 40]).toEqual([t, true, true]);
      }
    }
  });
});
