import { AlertReason, reasonTextEn } from '@eagle-eye/contracts';
import { ConsoleBrowser, Locale, shot } from './browser-harness';
import { Stack, until } from './harness';

/** A reason as the detector sends it: its id, its figures and the same in English words. */
function coded(
  rule: string,
  points: number,
  code: NonNullable<AlertReason['code']>,
  params = {},
): AlertReason {
  return { rule, points, code, params, text: reasonTextEn(code, params) };
}

/**
 * Reasons travel as a reason id with its figures (libs/contracts reasons.ts) and the web console
 * words them through vue-i18n in the operator's language, in real Chromium: the queue row's top
 * reason, every reason in the details, the model's features and the call length it waits for, an
 * age band, a list note an operator wrote (shown as written). An alert stored before reasons had
 * ids (English sentences only) still reads: in Chinese by its sentence, in English as it came.
 * The alerts go through the real alert worker (its job schema keeps ids and figures).
 */
describe('web console: detector reasons by id and figures, zh-CN and en', () => {
  const stack = new Stack();
  const browser = new ConsoleBrowser(() => stack.url);
  let codedId = '';
  let oldId = '';

  beforeAll(async () => {
    await stack.start();
    await browser.launch();
    const model = {
      model: 'caller-risk-abc',
      pct: 99.3,
      features: 'distinct1h,calledBack7d',
      distinct1h: 12,
      calledBack7d: 0,
    };
    const fresh = await stack.enqueueVictim({
      severity: 'critical',
      score: 155,
      reasons: [
        coded('caller_model', 55, 'caller_model', model),
        coded('long_call', 50, 'long_call', { duration: 180 }),
        coded('graylist', 40, 'graylist', { note: 'reported by five subscribers' }),
        coded('vulnerable_age', 10, 'vulnerable_age', { age: '65_PLUS' }),
        {
          ...coded('caller_model', 0, 'caller_model_shadow', { ...model, model: 'caller-risk-new', pct: 97 }),
          reportOnly: true,
        },
      ],
    });
    // as the worker stored alerts before reasons had ids: English sentences only
    const old = await stack.enqueueVictim({ score: 70 });
    const rows = await until(async () => {
      const r = await stack.alertRows('call_id = ANY($1)', [[fresh.callId, old.callId]]);
      return r.length === 2 ? r : undefined;
    }, 'both alerts stored');
    codedId = rows.find((r) => r.call_id === fresh.callId)!.id;
    oldId = rows.find((r) => r.call_id === old.callId)!.id;
  });
  afterAll(async () => {
    await browser.close();
    await stack.stop();
  });

  const expected: Record<Locale, { top: string; detail: string[]; old: string[] }> = {
    'zh-CN': {
      top: '模型 caller-risk-abc：诈骗主叫概率 99.3%（最近一小时拨打了 12 个不同的人；被其拨打过的人无一回拨）',
      detail: [
        '+55模型 caller-risk-abc：诈骗主叫概率 99.3%（最近一小时拨打了 12 个不同的人；被其拨打过的人无一回拨）',
        '+50与可疑陌生号码通话已超过 3 分钟',
        '+40号码在灰名单上：reported by five subscribers',
        '+10被叫年龄 65 岁及以上，属于诈骗重点针对的年龄段',
        '0影子模型 caller-risk-new：诈骗主叫概率 97%（最近一小时拨打了 12 个不同的人；被其拨打过的人无一回拨） （仅报告规则）',
      ],
      old: ['+30过去一小时拨打了 143 个不同的人', '+40the call has lasted more than 3 minutes'],
    },
    en: {
      top: 'model caller-risk-abc: 99.3 % likely a fraud caller (called 12 different people in the last hour; nobody it called has called back)',
      detail: [
        '+55model caller-risk-abc: 99.3 % likely a fraud caller (called 12 different people in the last hour; nobody it called has called back)',
        '+50on the phone with a suspect stranger for over 3 minutes',
        '+40number is on the graylist: reported by five subscribers',
        '+10callee is aged 65 or older, a band scammers target',
        '0shadow model caller-risk-new: 97 % likely a fraud caller (called 12 different people in the last hour; nobody it called has called back) (report-only rule)',
      ],
      old: ['+30called 143 different people in the last hour', '+40the call has lasted more than 3 minutes'],
    },
  };

  for (const locale of ['zh-CN', 'en'] as const) {
    it(`words the reasons in ${locale}`, async () => {
      const { page, errors } = await browser.open();
      await browser.signIn(page, 'supervisor', 'demo-supervisor', locale);
      const row = page.locator(`#live-rows tr[data-id="${codedId}"]`);
      await row.waitFor();
      expect((await row.locator('td.reason').textContent())?.trim()).toBe(expected[locale].top);

      await row.click();
      await page.waitForSelector('#detail .reasons li');
      const reasons = async () =>
        (await page.locator('#detail .reasons li').allTextContents()).map((s) =>
          s.replace(/\s+/g, ' ').trim(),
        );
      expect(await reasons()).toEqual(expected[locale].detail);
      await shot(page, `reasons-${locale}`);
      await page.keyboard.press('Escape');

      await page.locator(`#live-rows tr[data-id="${oldId}"]`).click();
      await page.waitForFunction(
        (n) => document.querySelectorAll('#detail .reasons li').length === n,
        expected[locale].old.length,
      );
      expect(await reasons()).toEqual(expected[locale].old);
      expect(errors).toEqual([]);
    });
  }
});
