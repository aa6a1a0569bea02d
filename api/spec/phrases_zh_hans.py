"""简体中文短语表（内地用语）: the sentences a ``# language: zh-CN`` feature may use.

Keywords: 功能, 背景, 场景/剧本, 场景大纲/剧本大纲, 例子, 假如/假设/假定, 当, 那么, 而且/并且/同时,
但是 (gherkin-official's zh-CN). Any keyword may start a sentence. Wording follows the Mainland
texts: 出境方 (the exporter, 个人信息处理者), 境外接收方, 单独同意, 个人信息保护影响评估, 备案.
Quotes may be ASCII ("...") or Chinese (“...”); parentheses ASCII or full-width.
"""

from __future__ import annotations

from . import steps as s
from .steps import Phrase
from .vocab import DATE_RE, NUMBER_RE


def _n(name: str) -> str:
    return f"\\s*(?P<{name}>{NUMBER_RE})\\s*"


def _d(name: str) -> str:
    return f"\\s*(?P<{name}>{DATE_RE})\\s*"


def _q(name: str) -> str:
    return f'["“](?P<{name}>[^"”]+)["”]'


ROLE = r"(?P<role>出境方|境外接收方)"
ONE = r"的一(?:家|所|个|名|位)"

PHRASES: list[Phrase] = [
    # 当事方
    Phrase(
        s.locate,
        rf"{ROLE}是(?P<where>.+?){ONE}(?P<kind>.+)",
        "{出境方|境外接收方}是{地点}的一家{类型}",
        "出境方是深圳的一家公司",
    ),
    Phrase(
        s.onward,
        rf"境外接收方将数据再提供给(?P<where>.+?){ONE}(?P<kind>.+)",
        "境外接收方将数据再提供给{地点}的一家{类型}",
        "境外接收方将数据再提供给新加坡的一家公司",
    ),
    Phrase(
        s.ciio,
        rf"{ROLE}是关键信息基础设施运营者",
        "{出境方|境外接收方}是关键信息基础设施运营者",
        "出境方是关键信息基础设施运营者",
    ),
    Phrase(s.sector, rf"{ROLE}所属行业为(?P<sector>.+)", "{出境方|境外接收方}所属行业为{行业}", "出境方所属行业为银行"),
    Phrase(
        s.zone, rf"{ROLE}所在区域为(?P<zone>.+)", "{出境方|境外接收方}所在区域为{区域}", "出境方所在区域为河套深圳园区"
    ),
    Phrase(
        s.party_id,
        rf"{ROLE}的统一社会信用代码为{_q('pid')}",
        "出境方的统一社会信用代码为“{代码}”",
        "出境方的统一社会信用代码为“91440300MA5XXXX042”",
    ),
    Phrase(
        s.processes,
        rf"出境方共处理{_n('n')}人的个人信息",
        "出境方共处理{人数}人的个人信息",
        "出境方共处理120万人的个人信息",
    ),
    # 出境活动
    Phrase(s.purpose, r"出境目的为(?P<purpose>.+)", "出境目的为{目的}", "出境目的为人力资源管理"),
    Phrase(
        s.new_purpose, r"数据将用于收集时以外的新目的", "数据将用于收集时以外的新目的", "数据将用于收集时以外的新目的"
    ),
    Phrase(s.mode, r"出境方式为(?P<mode>.+)", "出境方式为{方式}", "出境方式为境外远程访问"),
    Phrase(s.planned, rf"计划出境日期为{_d('date')}", "计划出境日期为{日期}", "计划出境日期为2026年12月1日"),
    Phrase(s.reference, rf"出境编号为{_q('ref')}", "出境编号为“{编号}”", "出境编号为“SZH-2026-0042”"),
    # 数据
    Phrase(s.personal, rf"本次出境{_n('n')}人的个人信息", "本次出境{人数}人的个人信息", "本次出境12万人的个人信息"),
    Phrase(
        s.sensitive,
        rf"本次出境{_n('n')}人的敏感个人信息[（(](?P<types>[^）)]+)[）)]",
        "本次出境{人数}人的敏感个人信息（{敏感类型}）",
        "本次出境9999人的敏感个人信息（医疗健康）",
    ),
    Phrase(s.non_personal, r"本次出境非个人数据", "本次出境非个人数据", "本次出境非个人数据"),
    Phrase(s.classified, r"数据属于(?P<cls>[^\"“]+)", "数据属于{分级}", "数据属于重要数据"),
    Phrase(s.tagged, r"数据涉及(?P<tags>.+)", "数据涉及{标签}", "数据涉及人类遗传资源"),
    Phrase(s.collected_abroad, r"数据在境外收集和产生", "数据在境外收集和产生", "数据在境外收集和产生"),
    Phrase(s.anonymised, r"数据已匿名化", "数据已匿名化", "数据已匿名化"),
    Phrase(s.population, rf"数据对应人群{_q('name')}", "数据对应人群“{名称}”", "数据对应人群“会员-2026”"),
    Phrase(
        s.data_table,
        r"本次出境以下数据[:：]?",
        "本次出境以下数据：",
        "本次出境以下数据：",
        table="| 类型 | 人数 | 敏感类型 | 分级 | 标签 |\n"
        "| 个人信息 | 60000 | | 一般数据 | |\n"
        "| 个人信息 | 3000 | 医疗健康 | 一般数据 | 人口健康 |",
    ),
    # 保障措施
    Phrase(s.notice, r"已履行告知义务", "已履行告知义务", "已履行告知义务"),
    Phrase(s.consent, r"已取得个人的单独同意", "已取得个人的单独同意", "已取得个人的单独同意"),
    Phrase(
        s.pia,
        rf"已于{_d('date')}完成个人信息保护影响评估",
        "已于{日期}完成个人信息保护影响评估",
        "已于2026-11-01完成个人信息保护影响评估",
    ),
    Phrase(
        s.usual,
        r"告知、单独同意和个人信息保护影响评估均已完成",
        "告知、单独同意和个人信息保护影响评估均已完成",
        "告知、单独同意和个人信息保护影响评估均已完成",
    ),
    Phrase(
        s.mechanism,
        rf"(?P<mech>[^\d，,]+?)于{_d('eff')}(?:生效|通过|取得|出具)"
        rf"(?:[，,]?并于{_d('filed')}备案|[，,]?尚未备案)?(?:[，,]?于?{_d('exp')}到期)?",
        "{机制}于{日期}生效[，并于{日期}备案 |，尚未备案][，{日期}到期]",
        "大湾区标准合同于2026-11-10生效，并于2026-11-15备案",
    ),
    Phrase(
        s.approval,
        rf"已于{_d('date')}取得批准[:：]\s*(?P<kind>.+)",
        "已于{日期}取得批准：{审批}",
        "已于2026-11-20取得批准：国家秘密",
    ),
    # 此前出境数量
    Phrase(
        s.prior_this_year,
        rf"今年此前已出境{_n('n')}人的(?P<sens>敏感)?个人信息",
        "今年此前已出境{人数}人的[敏感]个人信息",
        "今年此前已出境8万人的个人信息",
    ),
    Phrase(
        s.prior_last_year,
        rf"上年已出境{_n('n')}人的(?P<sens>敏感)?个人信息",
        "上年已出境{人数}人的[敏感]个人信息",
        "上年已出境7万人的个人信息",
    ),
    Phrase(
        s.option,
        r"选项\s*(?P<opt>[a-z0-9_]+)\s*为\s*(?P<value>\S+)",
        "选项 {选项} 为 {开启|关闭}",
        "选项 gba_contract_at_assessment_level 为 开启",
    ),
    # 操作
    Phrase(s.evaluate, r"评估本次出境", "评估本次出境", "评估本次出境"),
    Phrase(
        s.submit,
        r"(?:将本次出境提交至台账|提交本次出境)",
        "提交本次出境 | 将本次出境提交至台账",
        "将本次出境提交至台账",
    ),
    Phrase(s.withdraw, rf"撤回(?:本次出境|出境{_q('ref')})", "撤回本次出境 | 撤回出境“{编号}”", "撤回出境“TZ-01”"),
    Phrase(
        s.new_transfer,
        rf"另一次出境(?:{_q('ref')})?(?:计划于{_d('date')})?",
        "另一次出境[“{编号}”][计划于{日期}]",
        "另一次出境“TZ-02”计划于2026-06-01",
    ),
    # 检查
    Phrase(s.outcome, r"结果为(?P<outcome>.+)", "结果为{允许|附条件|禁止}", "结果为附条件"),
    Phrase(s.mechanism_level, r"所需机制为(?P<level>.+)", "所需机制为{机制级别}", "所需机制为安全评估"),
    Phrase(
        s.options_are,
        r"可选机制为(?P<opts>.+)",
        "可选机制为{机制}、{机制}……",
        "可选机制为大湾区标准合同、标准合同、认证",
    ),
    Phrase(s.exemptions_are, r"适用的豁免为(?P<exemptions>.+)", "适用的豁免为{豁免}", "适用的豁免为人力资源管理"),
    Phrase(s.no_exemption, r"不适用任何豁免", "不适用任何豁免", "不适用任何豁免"),
    Phrase(s.cites, rf"有理由引用{_q('text')}", "有理由引用“{文字}”", "有理由引用“art. 5(2)”"),
    Phrase(s.says, rf"有理由说明{_q('text')}", "有理由说明“{文字}”", "有理由说明“不受数量限制”"),
    Phrase(
        s.rule_applies,
        r"规则\s*(?P<rule>[\w.\-]+?)\s*(?P<neg>不)?适用",
        "规则 {规则编号} [不]适用",
        "规则 cn.pi.ciio 适用",
    ),
    Phrase(
        s.missing,
        r"缺失项包括(?P<what>机制|义务|审批)\s*(?P<value>.+)",
        "缺失项包括{机制|义务|审批} {内容}",
        "缺失项包括机制安全评估",
    ),
    Phrase(s.missing_review, r"缺失项包括法律审查", "缺失项包括法律审查", "缺失项包括法律审查"),
    Phrase(s.nothing_missing, r"没有缺失项", "没有缺失项", "没有缺失项"),
    Phrase(s.met_by, r"所需机制已由(?P<mech>.+)满足", "所需机制已由{机制}满足", "所需机制已由大湾区标准合同满足"),
    Phrase(s.met_by_nothing, r"现有机制均不满足要求", "现有机制均不满足要求", "现有机制均不满足要求"),
    Phrase(
        s.due,
        rf"义务\s*(?P<oid>[\w.\-]+?)\s*的到期日为{_d('date')}",
        "义务 {义务编号} 的到期日为{日期}",
        "义务 cn.sc-filing 的到期日为2026-12-10",
    ),
    Phrase(
        s.satisfied,
        r"义务\s*(?P<oid>[\w.\-]+?)\s*(?:(?P<neg>尚未)|已)履行",
        "义务 {义务编号} 已履行 | 尚未履行",
        "义务 cn.pia 尚未履行",
    ),
    Phrase(s.counted, r"本次出境(?P<neg>不)?计入当年累计", "本次出境[不]计入当年累计", "本次出境不计入当年累计"),
    Phrase(
        s.ledger_counts,
        rf"台账中出境方(?P<year>\d{{4}})年累计个人信息{_n('personal')}人"
        rf"(?:[、，,]敏感个人信息{_n('sensitive')}人)?",
        "台账中出境方{年份}年累计个人信息{人数}人[、敏感个人信息{人数}人]",
        "台账中出境方2026年累计个人信息11万人、敏感个人信息0人",
    ),
    Phrase(s.replayed, r"本次提交(?:(?P<neg>不)是|是)重复提交", "本次提交[不]是重复提交", "本次提交是重复提交"),
]
