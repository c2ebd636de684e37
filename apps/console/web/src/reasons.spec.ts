import { reasonText } from './reasons';

// sentences as apps/detector/src/scoring/score.ts words them
describe('detector reasons in the console language', () => {
  const zh = (s: string) => reasonText(s, 'zh-CN');

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
    expect(reasonText('called 143 different people in the last hour', 'en')).toBe(
      'called 143 different people in the last hour',
    );
    expect(zh('handset seen with 9 SIMs this week')).toBe('handset seen with 9 SIMs this week');
  });
});
