import type { RuleId } from '../../../../../libs/rules/src/rule-catalog';

/**
 * What each detection rule looks at, in Chinese. English is the rule catalog's own description
 * (libs/rules RULE_CATALOG, served with the rules); the type makes a new rule without a
 * translation fail the build.
 */
export const ruleDescriptionsZh = {
  fanout: '主叫拨打大量不同号码，很少重复拨打同一人',
  call_centre: '呼叫次数多但接通率低，或接通的多为短通话',
  blacklist: '主叫在黑名单上（已确认诈骗）',
  graylist: '主叫在灰名单上（被举报或可疑）',
  whitelist: '主叫在白名单上（快递、银行、热线等）',
  spoofed_origin: '来电从境外进入，却显示为国内号码',
  unverified_caller_id: '网络无法核验主叫号码（认证等级 C 或无认证）',
  display_mismatch: '显示号码与真实号码不一致（改号软件）',
  virtual_operator: '主叫号码属于虚拟运营商',
  new_number: '主叫号码最近才出现（闲置一天后再次使用也视为新号）',
  sim_farm: '主叫终端一周内使用过大量不同的 SIM 卡',
  ring_relay: '时间窗口内有多个可疑号码联系同一被叫',
  callback_to_one_ring: '被叫回拨了一个给很多人打过、几乎无人接听的号码（“响一声”回拨诈骗：主叫是受害人）',
  caller_model:
    '主叫风险模型：根据主叫 1 小时、24 小时和 7 天的行为计算校准后的诈骗概率，达到模型阈值即命中（model：决策所用的模型版本，空 = 内置；shadowModel：仅报告模式下评分的模型版本；minProbability：0 = 模型自身 95% 精确率的阈值；minCallS：通话超过此时长才计入模型分值；classes：模型训练所用的主叫号码类型）',
  long_call:
    '与可疑陌生号码的通话持续进行（按时长分档计分）；recheckS：最后一档之后，通话进行中每隔该时间重新评分，使只在长通话中才显露风险的主叫仍能在受害人通话时被发现（0 = 关闭）',
  vulnerable_age: '被叫处于诈骗分子重点针对或损失最大的年龄段',
  familiar: '被叫以前给该号码打过电话（或双方长时间通话过）',
  alert_policy: '阈值：告警级别、可疑主叫的判定、冷却时间',
} satisfies Record<RuleId, string>;
