import { createI18n } from 'vue-i18n';
import type { AlertReason } from '@eagle-eye/contracts/alerts';
import { REASON_CODES, reasonTextEn } from '@eagle-eye/contracts/reasons';
import { MESSAGES } from './i18n';
import { legacyReasonText, reasonText } from './reasons';

/** vue-i18n as the console sets it up, in one language */
function words(locale: 'zh-CN' | 'en') {
  const i18n = createI18n({ legacy: false, locale, fallbackLocale: 'en', messages: MESSAGES });
  const t = i18n.global.t as unknown as (k: string, p: Record<string, string | number>) => string;
  return (r: Pick<AlertReason, 'code' | 'params' | 'text'>) => reasonText(r, locale, (k, p) => t(k, p));
}

describe('coded reasons in the console language (vue-i18n messages)', () => {
  const zh = words('zh-CN');
  const en = words('en');
  const coded = (code: AlertReason['code'] & string, params: Record<string, string | number> = {}) => ({
    code,
    params,
    text: reasonTextEn(code, params),
  });

  it('words every reason id in Chinese and in English, the English exactly as the detector’s text', () => {
    const samples: Record<string, Record<string, string | number>> = {
      blacklist: { note: 'case 17' },
      graylist: { note: 'reported by five subscribers' },
      whitelist: { note: 'courier' },
      fanout_hour: { distinct: 143 },
      fanout_day: { distinct: 31, perCallee: '1.06' },
      call_centre: { attempts1h: 44, attempts10m: 12, answeredPct: 9, shortPct: 80 },
      spoofed_origin: { country: 'KH' },
      new_number: { hours: 5 },
      sim_farm: { sims: 9 },
      caller_model: { model: 'caller-risk-abc', pct: 97.5 },
      caller_model_shadow: { model: 'caller-risk-def', pct: 91 },
      ring_relay: { suspects: 3 },
      long_call: { duration: 180 },
      vulnerable_age: { age: '65_PLUS' },
      callback_to_one_ring: { distinct: 40, attempts: 52, answeredPct: 2 },
    };
    for (const code of REASON_CODES) {
      const r = coded(code, samples[code] ?? {});
      expect(en(r)).toBe(r.text);
      const z = zh(r);
      expect({ code, z }).toEqual({ code, z: expect.stringMatching(/[\u4e00-\u9fff]/) });
      expect(z).not.toMatch(/[{}]|reasons\./);
    }
    expect(zh(coded('fanout_hour', { distinct: 143 }))).toBe('过去一小时拨打了 143 个不同的人');
    expect(zh(coded('long_call', { duration: 90 }))).toBe('与可疑陌生号码通话已超过 90 秒');
    expect(zh(coded('vulnerable_age', { age: 'UNDER_18' }))).toBe(
      '被叫年龄 未满 18 岁，属于诈骗重点针对的年龄段',
    );
  });

  it("words the model's features and the call length it waits for", () => {
    const params = {
      model: 'caller-risk-abc',
      pct: 99.3,
      features: 'distinct1h,calledBack7d,handsets',
      distinct1h: 12,
      calledBack7d: 0,
      handsets: 1,
      countsAfter: 60,
    };
    const r = coded('caller_model', params);
    expect(r.text).toBe(
      'model caller-risk-abc: 99.3 % likely a fraud caller (called 12 different people in the last hour; ' +
        'nobody it called has called back; calls from 1 handset); counts for a call once it passes 1 minute',
    );
    expect(en(r)).toBe(r.text);
    expect(zh(r)).toBe(
      '模型 caller-risk-abc：诈骗主叫概率 99.3%（最近一小时拨打了 12 个不同的人；被其拨打过的人无一回拨；只用 1 部手机呼叫）；通话超过 1 分钟 才计入',
    );
  });

  it('shows an old stored reason (a sentence only) by its sentence, and an unknown id by its text', () => {
    expect(zh({ text: 'called 143 different people in the last hour' })).toBe(
      '过去一小时拨打了 143 个不同的人',
    );
    expect(en({ text: 'called 143 different people in the last hour' })).toBe(
      'called 143 different people in the last hour',
    );
    const future = { code: 'quantum_rule', params: { x: 1 }, text: 'a rule from a newer detector' };
    expect(zh(future as unknown as AlertReason)).toBe('a rule from a newer detector');
    expect(reasonText(null, 'zh-CN', () => 'x')).toBe('');
  });
});

// sentences as apps/detector/src/scoring/score.ts worded them before reasons had ids (old alerts)
describe('old stored reasons in the console language', () => {
  const zh = (s: string) => legacyReasonText(s, 'zh-CN');

  it('puts each known sentence into Chinese with its figures', () => {
    expect(zh('called 143 different people in the last hour')).toBe('过去一小时拨打了 143 个不同的人');
    expect(zh('called 31 different people in 24 hours, 1.06 calls each')).toBe(
      '24 小时内拨打了 31 个不同的人，平均每人 1.06 次',
    );
    expect(
      zh(
        'call-centre pattern: 44 calls in the last hour (12 in 10 minutes), 9 % answered, 80 % of answered ones short',
      ),
    ).toBe('呼叫中心特征：过去一小时呼叫 44 次（10 分钟内 12 次），接通率 9%，接通中 80% 为短通话');
    expect(zh('call entered from KH but displays a domestic number')).toBe(
      '来电从境外（KH）进入，却显示为国内号码',
    );
    expect(zh("caller's handset used with 9 different SIMs this week")).toBe(
      '主叫终端本周使用过 9 张不同的 SIM 卡',
    );
    expect(zh('on the phone with a suspect stranger for over 3 minutes')).toBe(
      '与可疑陌生号码通话已超过 3 分钟',
    );
    expect(zh('on the phone with a suspect stranger for over 90 seconds')).toBe(
      '与可疑陌生号码通话已超过 90 秒',
    );
    expect(zh('callee is aged 65 or older, a band scammers target')).toBe(
      '被叫年龄 65 岁及以上，属于诈骗重点针对的年龄段',
    );
    expect(zh('number is on the graylist: reported by five subscribers')).toBe(
      '号码在灰名单上：reported by five subscribers',
    );
    expect(
      zh(
        'called back a number that rang 40 different people in 24 hours (52 calls, 2 % answered): a one-ring call-back scam',
      ),
    ).toBe('回拨了一个 24 小时内响铃 40 个不同的人的号码（52 次呼叫，接通率 2%）：“响一声”回拨诈骗');
    expect(zh('model v3: 97.5 % likely a fraud caller; counts for a call once it passes 1 minute')).toBe(
      '模型 v3：诈骗主叫概率 97.5%；通话超过 1 分钟 才计入',
    );
  });

  it('leaves English as it is, and a sentence of no known pattern as it came', () => {
    expect(legacyReasonText('called 143 different people in the last hour', 'en')).toBe(
      'called 143 different people in the last hour',
    );
    expect(zh('handset seen with 9 SIMs this week')).toBe('handset seen with 9 SIMs this week');
  });
});
