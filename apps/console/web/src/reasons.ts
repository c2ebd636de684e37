import type { AlertReason } from '@eagle-eye/contracts/alerts';
import { REASON_CODES, renderReason } from '@eagle-eye/contracts/reasons';

/** vue-i18n's `t` (the console's messages; reasons under `reasons.`) */
export type Translate = (key: string, params: Record<string, string | number>) => string;

/**
 * A reason in the console's language. Reasons travel as a message id with their figures
 * (libs/contracts reasons.ts): worded here through the `reasons.*` messages of zh-CN.ts and en.ts.
 * A reason stored before reasons had ids, or with an id this console does not know (a newer
 * detector), has only its English sentence: zh-CN puts a known sentence into Chinese by the
 * detector's old sentence patterns below, anything else is shown as it came.
 */
export function reasonText(
  r: Pick<AlertReason, 'code' | 'params' | 'text'> | null | undefined,
  locale: string,
  t: Translate,
): string {
  if (!r) return '';
  if (r.code && (REASON_CODES as string[]).includes(r.code))
    return renderReason(r.code, r.params ?? {}, (path, p) => t(`reasons.${path}`, p ?? {}));
  return legacyReasonText(r.text, locale);
}

/**
 * Old stored reasons (English sentences only): their Chinese by the detector's sentence patterns of
 * before reason ids, figures kept; a sentence of no known pattern is shown as it came.
 */
type Pattern = [RegExp, (m: RegExpMatchArray) => string];

const MINUTES_OR_SECONDS = (s: string) =>
  s.replace(/^(\d+) minutes?$/, '$1 分钟').replace(/^(\d+) seconds$/, '$1 秒');

const AGES: Record<string, string> = {
  'under 18': '未满 18 岁',
  '18-28': '18-28 岁',
  '29-45': '29-45 岁',
  '46-64': '46-64 岁',
  '65 or older': '65 岁及以上',
  unknown: '未知',
};

const ZH: Pattern[] = [
  [/^number is on the blacklist: (.*)$/s, (m) => `号码在黑名单上：${m[1]}`],
  [/^number is on the graylist: (.*)$/s, (m) => `号码在灰名单上：${m[1]}`],
  [/^number is whitelisted: (.*)$/s, (m) => `号码在白名单上：${m[1]}`],
  [/^called (\d+) different people in the last hour$/, (m) => `过去一小时拨打了 ${m[1]} 个不同的人`],
  [
    /^called (\d+) different people in 24 hours, ([\d.]+) calls each$/,
    (m) => `24 小时内拨打了 ${m[1]} 个不同的人，平均每人 ${m[2]} 次`,
  ],
  [
    /^call-centre pattern: (\d+) calls in the last hour \((\d+) in 10 minutes\), (\d+) % answered, (\d+) % of answered ones short$/,
    (m) =>
      `呼叫中心特征：过去一小时呼叫 ${m[1]} 次（10 分钟内 ${m[2]} 次），接通率 ${m[3]}%，接通中 ${m[4]}% 为短通话`,
  ],
  [
    /^call entered from (\S+) but displays a domestic number$/,
    (m) => `来电从境外（${m[1]}）进入，却显示为国内号码`,
  ],
  [/^caller id could not be verified by the network$/, () => '网络无法核验主叫号码'],
  [/^displayed number differs from the real one$/, () => '显示号码与真实号码不一致'],
  [/^number belongs to a virtual operator$/, () => '号码属于虚拟运营商'],
  [/^number first seen (\d+) hours ago$/, (m) => `号码 ${m[1]} 小时前才首次出现`],
  [
    /^caller's handset used with (\d+) different SIMs this week$/,
    (m) => `主叫终端本周使用过 ${m[1]} 张不同的 SIM 卡`,
  ],
  [
    /^(\d+) different suspect numbers reached this person within the hour$/,
    (m) => `一小时内有 ${m[1]} 个不同的可疑号码联系过此人`,
  ],
  [
    /^on the phone with a suspect stranger for over (.+)$/,
    (m) => `与可疑陌生号码通话已超过 ${MINUTES_OR_SECONDS(m[1])}`,
  ],
  [
    /^callee is aged (.+), a band scammers target$/,
    (m) => `被叫年龄 ${AGES[m[1]] ?? m[1]}，属于诈骗重点针对的年龄段`,
  ],
  [/^callee has called this number before$/, () => '被叫以前给该号码打过电话'],
  [/^callee has talked with this number before$/, () => '被叫以前与该号码通过话'],
  [
    /^called back a number that rang (\d+) different people in 24 hours \((\d+) calls, (\d+) % answered\): a one-ring call-back scam$/,
    (m) =>
      `回拨了一个 24 小时内响铃 ${m[1]} 个不同的人的号码（${m[2]} 次呼叫，接通率 ${m[3]}%）：“响一声”回拨诈骗`,
  ],
  [
    /^(shadow )?model (\S*): ([\d.]+) % likely a fraud caller(.*)$/s,
    (m) => `${m[1] ? '影子模型' : '模型'} ${m[2]}：诈骗主叫概率 ${m[3]}%${m[4]}`,
  ],
];

/** An English reason sentence in the console's language: Chinese by pattern for zh-CN, otherwise as it is. */
export function legacyReasonText(text: string, locale: string): string {
  if (locale !== 'zh-CN') return text;
  // the model rule may append "; counts for a call once it passes 1 minute"
  const [head, counts] = text.split(/; counts for a call once it passes /);
  for (const [re, zh] of ZH) {
    const m = head.match(re);
    if (m) return zh(m) + (counts ? `；通话超过 ${MINUTES_OR_SECONDS(counts)} 才计入` : '');
  }
  return text;
}
