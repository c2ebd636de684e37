import type { ReasonMessages } from '@eagle-eye/contracts/reasons';

/**
 * The detector's reasons in Chinese: one message per reason id of libs/contracts reasons.ts (its
 * English is REASON_MESSAGES_EN, the console's English), with the same parameters. A reason id
 * without a message here fails the type check.
 */
export const reasonsZhCN: ReasonMessages = {
  blacklist: '号码在黑名单上：{note}',
  graylist: '号码在灰名单上：{note}',
  whitelist: '号码在白名单上：{note}',
  fanout_hour: '过去一小时拨打了 {distinct} 个不同的人',
  fanout_day: '24 小时内拨打了 {distinct} 个不同的人，平均每人 {perCallee} 次',
  call_centre:
    '呼叫中心特征：过去一小时呼叫 {attempts1h} 次（10 分钟内 {attempts10m} 次），接通率 {answeredPct}%，接通中 {shortPct}% 为短通话',
  spoofed_origin: '来电从境外（{country}）进入，却显示为国内号码',
  unverified_caller_id: '网络无法核验主叫号码',
  display_mismatch: '显示号码与真实号码不一致',
  virtual_operator: '号码属于虚拟运营商',
  new_number: '号码 {hours} 小时前才首次出现',
  sim_farm: '主叫终端本周使用过 {sims} 张不同的 SIM 卡',
  caller_model: '模型 {model}：诈骗主叫概率 {pct}%',
  caller_model_shadow: '影子模型 {model}：诈骗主叫概率 {pct}%',
  ring_relay: '一小时内有 {suspects} 个不同的可疑号码联系过此人',
  long_call: '与可疑陌生号码通话已超过 {duration}',
  vulnerable_age: '被叫年龄 {age}，属于诈骗重点针对的年龄段',
  familiar_called: '被叫以前给该号码打过电话',
  familiar_talked: '被叫以前与该号码通过话',
  callback_to_one_ring:
    '回拨了一个 24 小时内响铃 {distinct} 个不同的人的号码（{attempts} 次呼叫，接通率 {answeredPct}%）：“响一声”回拨诈骗',
  features: {
    attempts10m: '最近 10 分钟呼叫 {attempts10m} 次',
    attempts1h: '最近一小时呼叫 {attempts1h} 次',
    distinct1h: '最近一小时拨打了 {distinct1h} 个不同的人',
    attempts24h: '24 小时内呼叫 {attempts24h} 次',
    distinct24h: '24 小时内拨打了 {distinct24h} 个不同的人',
    callsPerCallee24h: '24 小时内平均每人 {callsPerCallee24h} 次',
    newShare24h: '今天 {newShare24h}% 的呼叫打给从未联系过的人',
    answeredShare24h: '{answeredShare24h}% 的呼叫被接通',
    talkMean24h: '每次接通平均通话 {talkMean24h} 秒',
    shortShare24h: '{shortShare24h}% 的接通电话几秒内被挂断',
    longShare24h: '{longShare24h}% 的接通电话超过 3 分钟',
    slots24h: '最近 12 个两小时时段中有 {slots24h} 个在呼叫',
    attempts7d: '7 天内呼叫 {attempts7d} 次',
    distinct7d: '7 天内拨打了 {distinct7d} 个不同的人',
    callsPerCallee7d: '7 天内平均每人 {callsPerCallee7d} 次',
    newShare7d: '本周 {newShare7d}% 的呼叫打给从未联系过的人',
    days7d: '最近 7 天中有 {days7d} 天活跃',
    talkMean7d: '本周每次接通平均通话 {talkMean7d} 秒',
    inShare24h: '今天 {inShare24h}% 的通话为主叫',
    inShare7d: '本周 {inShare7d}% 的通话为主叫',
    calledBack7d: '本周被其拨打过的人回拨 {calledBack7d} 次',
    calledBack7d_none: '被其拨打过的人无一回拨',
    calledBackShare7d: '本周被其拨打过的人中 {calledBackShare7d}% 回拨过',
    handsets: '使用过 {handsets} 部不同的手机呼叫',
    handsets_one: '只用 1 部手机呼叫',
  },
  join: {
    withFeatures: '{reason}（{features}）',
    separator: '；',
    countsAfter: '{reason}；通话超过 {duration} 才计入',
  },
  duration: { minute: '1 分钟', minutes: '{n} 分钟', seconds: '{n} 秒' },
  ages: {
    UNDER_18: '未满 18 岁',
    '18_28': '18-28 岁',
    '29_45': '29-45 岁',
    '46_64': '46-64 岁',
    '65_PLUS': '65 岁及以上',
    UNKNOWN: '未知',
  },
};
