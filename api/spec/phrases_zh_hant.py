"""繁體中文短語表（香港用語）: the sentences a ``# language: zh-TW`` feature may use.

Keywords: 功能, 背景, 場景/劇本, 場景大綱/劇本大綱, 例子, 假如/假設/假定, 當, 那麼, 而且/並且/同時,
但是 (gherkin-official's zh-TW). Any keyword may start a sentence. Wording follows Hong Kong usage
and the PDPO: 資料使用者 or 輸出方 (the exporter), 接收方/承轉人, 個人資料, 訂明同意,
私隱影響評估, 登記冊; quotes ASCII ("...") or 「...」, parentheses ASCII or full-width.
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
    return f'["「“](?P<{name}>[^"」”]+)["」”]'


ROLE = r"(?P<role>輸出方|資料使用者|接收方|承轉人)"
ONE = r"的一(?:間|家|所|個|名|位)"

PHRASES: list[Phrase] = [
    # 各方
    Phrase(
        s.locate,
        rf"{ROLE}是(?P<where>.+?){ONE}(?P<kind>.+)",
        "{輸出方|接收方}是{地點}的一間{類型}",
        "輸出方是深圳的一間公司",
    ),
    Phrase(
        s.onward,
        rf"接收方會將資料再轉移至(?P<where>.+?){ONE}(?P<kind>.+)",
        "接收方會將資料再轉移至{地點}的一間{類型}",
        "接收方會將資料再轉移至新加坡的一間公司",
    ),
    Phrase(
        s.ciio,
        rf"{ROLE}是關鍵信息基礎設施(?:營運者|運營者)",
        "{輸出方|接收方}是關鍵信息基礎設施營運者",
        "輸出方是關鍵信息基礎設施營運者",
    ),
    Phrase(s.sector, rf"{ROLE}所屬行業為(?P<sector>.+)", "{輸出方|接收方}所屬行業為{行業}", "輸出方所屬行業為銀行"),
    Phrase(s.zone, rf"{ROLE}所在區域為(?P<zone>.+)", "{輸出方|接收方}所在區域為{區域}", "輸出方所在區域為河套深圳園區"),
    Phrase(
        s.party_id,
        rf"{ROLE}的登記號碼為{_q('pid')}",
        "{輸出方|接收方}的登記號碼為「{號碼}」",
        "輸出方的登記號碼為「91440300MA5XXXX042」",
    ),
    Phrase(
        s.processes,
        rf"輸出方合共處理{_n('n')}人的個人資料",
        "輸出方合共處理{人數}人的個人資料",
        "輸出方合共處理120萬人的個人資料",
    ),
    # 轉移
    Phrase(s.purpose, r"轉移目的為(?P<purpose>.+)", "轉移目的為{目的}", "轉移目的為人力資源管理"),
    Phrase(
        s.new_purpose, r"資料將用於收集時以外的新目的", "資料將用於收集時以外的新目的", "資料將用於收集時以外的新目的"
    ),
    Phrase(s.mode, r"轉移方式為(?P<mode>.+)", "轉移方式為{方式}", "轉移方式為境外遙距存取"),
    Phrase(s.planned, rf"計劃轉移日期為{_d('date')}", "計劃轉移日期為{日期}", "計劃轉移日期為2026年12月1日"),
    Phrase(s.reference, rf"轉移編號為{_q('ref')}", "轉移編號為「{編號}」", "轉移編號為「HK-2026-0042」"),
    # 資料
    Phrase(s.personal, rf"是次轉移{_n('n')}人的個人資料", "是次轉移{人數}人的個人資料", "是次轉移12萬人的個人資料"),
    Phrase(
        s.sensitive,
        rf"是次轉移{_n('n')}人的敏感個人資料[（(](?P<types>[^）)]+)[）)]",
        "是次轉移{人數}人的敏感個人資料（{敏感類型}）",
        "是次轉移9999人的敏感個人資料（醫療健康）",
    ),
    Phrase(s.non_personal, r"是次轉移非個人資料", "是次轉移非個人資料", "是次轉移非個人資料"),
    Phrase(s.classified, r"資料屬於(?P<cls>[^\"「“]+)", "資料屬於{分級}", "資料屬於重要數據"),
    Phrase(s.tagged, r"資料涉及(?P<tags>.+)", "資料涉及{標籤}", "資料涉及人類遺傳資源"),
    Phrase(s.collected_abroad, r"資料在境外收集和產生", "資料在境外收集和產生", "資料在境外收集和產生"),
    Phrase(s.anonymised, r"資料已匿名化", "資料已匿名化", "資料已匿名化"),
    Phrase(s.population, rf"資料對應人群{_q('name')}", "資料對應人群「{名稱}」", "資料對應人群「會員-2026」"),
    Phrase(
        s.data_table,
        r"是次轉移以下資料[:：]?",
        "是次轉移以下資料：",
        "是次轉移以下資料：",
        table="| 類型 | 人數 | 敏感類型 | 分級 | 標籤 |\n"
        "| 個人資料 | 60000 | | 一般數據 | |\n"
        "| 個人資料 | 3000 | 醫療健康 | 一般數據 | 人口健康 |",
    ),
    # 保障措施
    Phrase(s.notice, r"已履行告知責任", "已履行告知責任", "已履行告知責任"),
    Phrase(s.consent, r"已取得(?:訂明同意|單獨同意)", "已取得訂明同意 | 已取得單獨同意", "已取得訂明同意"),
    Phrase(s.pia, rf"已於{_d('date')}完成私隱影響評估", "已於{日期}完成私隱影響評估", "已於2026-11-01完成私隱影響評估"),
    Phrase(
        s.usual,
        r"告知、同意及私隱影響評估均已完成",
        "告知、同意及私隱影響評估均已完成",
        "告知、同意及私隱影響評估均已完成",
    ),
    Phrase(
        s.mechanism,
        rf"(?P<mech>[^\d，,]+?)於{_d('eff')}(?:生效|通過|取得|發出)"
        rf"(?:[，,]?並於{_d('filed')}備案|[，,]?尚未備案)?(?:[，,]?於?{_d('exp')}屆滿)?",
        "{機制}於{日期}生效[，並於{日期}備案 |，尚未備案][，{日期}屆滿]",
        "大灣區標準合同於2026-11-10生效，並於2026-11-15備案",
    ),
    Phrase(
        s.approval,
        rf"已於{_d('date')}取得批准[:：]\s*(?P<kind>.+)",
        "已於{日期}取得批准：{批准}",
        "已於2026-11-20取得批准：國家秘密",
    ),
    # 較早前轉移的數量
    Phrase(
        s.prior_this_year,
        rf"今年較早前已轉移{_n('n')}人的(?P<sens>敏感)?個人資料",
        "今年較早前已轉移{人數}人的[敏感]個人資料",
        "今年較早前已轉移8萬人的個人資料",
    ),
    Phrase(
        s.prior_last_year,
        rf"去年已轉移{_n('n')}人的(?P<sens>敏感)?個人資料",
        "去年已轉移{人數}人的[敏感]個人資料",
        "去年已轉移7萬人的個人資料",
    ),
    Phrase(
        s.option,
        r"選項\s*(?P<opt>[a-z0-9_]+)\s*為\s*(?P<value>\S+)",
        "選項 {選項} 為 {開啟|關閉}",
        "選項 gba_contract_at_assessment_level 為 開啟",
    ),
    # 操作
    Phrase(s.evaluate, r"評估是次轉移", "評估是次轉移", "評估是次轉移"),
    Phrase(
        s.submit,
        r"(?:將是次轉移提交至登記冊|提交是次轉移)",
        "提交是次轉移 | 將是次轉移提交至登記冊",
        "將是次轉移提交至登記冊",
    ),
    Phrase(s.withdraw, rf"撤回(?:是次轉移|轉移{_q('ref')})", "撤回是次轉移 | 撤回轉移「{編號}」", "撤回轉移「HK-01」"),
    Phrase(
        s.new_transfer,
        rf"另一次轉移(?:{_q('ref')})?(?:計劃於{_d('date')})?",
        "另一次轉移[「{編號}」][計劃於{日期}]",
        "另一次轉移「HK-02」計劃於2026-06-01",
    ),
    # 檢查
    Phrase(s.outcome, r"結果為(?P<outcome>.+)", "結果為{允許|附條件|禁止}", "結果為附條件"),
    Phrase(s.mechanism_level, r"所需機制為(?P<level>.+)", "所需機制為{機制級別}", "所需機制為安全評估"),
    Phrase(
        s.options_are,
        r"可選機制為(?P<opts>.+)",
        "可選機制為{機制}、{機制}……",
        "可選機制為大灣區標準合同、標準合同、認證",
    ),
    Phrase(s.exemptions_are, r"適用的豁免為(?P<exemptions>.+)", "適用的豁免為{豁免}", "適用的豁免為人力資源管理"),
    Phrase(s.no_exemption, r"不適用任何豁免", "不適用任何豁免", "不適用任何豁免"),
    Phrase(s.cites, rf"有理由引用{_q('text')}", "有理由引用「{文字}」", "有理由引用「DPP3」"),
    Phrase(s.says, rf"有理由說明{_q('text')}", "有理由說明「{文字}」", "有理由說明「訂明同意」"),
    Phrase(
        s.rule_applies,
        r"規則\s*(?P<rule>[\w.\-]+?)\s*(?P<neg>不)?適用",
        "規則 {規則編號} [不]適用",
        "規則 hk.dpp3-new-purpose 適用",
    ),
    Phrase(
        s.missing,
        r"欠缺項目包括(?P<what>機制|義務|批准)\s*(?P<value>.+)",
        "欠缺項目包括{機制|義務|批准} {內容}",
        "欠缺項目包括義務 hk.dpp3-prescribed-consent",
    ),
    Phrase(s.missing_review, r"欠缺項目包括法律審查", "欠缺項目包括法律審查", "欠缺項目包括法律審查"),
    Phrase(s.nothing_missing, r"沒有欠缺項目", "沒有欠缺項目", "沒有欠缺項目"),
    Phrase(s.met_by, r"所需機制已由(?P<mech>.+)滿足", "所需機制已由{機制}滿足", "所需機制已由大灣區標準合同滿足"),
    Phrase(s.met_by_nothing, r"現有機制均不滿足要求", "現有機制均不滿足要求", "現有機制均不滿足要求"),
    Phrase(
        s.due,
        rf"義務\s*(?P<oid>[\w.\-]+?)\s*的到期日為{_d('date')}",
        "義務 {義務編號} 的到期日為{日期}",
        "義務 gba.filing 的到期日為2026-11-24",
    ),
    Phrase(
        s.satisfied,
        r"義務\s*(?P<oid>[\w.\-]+?)\s*(?:(?P<neg>尚未)|已)履行",
        "義務 {義務編號} 已履行 | 尚未履行",
        "義務 hk.dpp1-notice 尚未履行",
    ),
    Phrase(s.counted, r"是次轉移(?P<neg>不)?計入當年累計", "是次轉移[不]計入當年累計", "是次轉移計入當年累計"),
    Phrase(
        s.ledger_counts,
        rf"登記冊中輸出方(?P<year>\d{{4}})年累計個人資料{_n('personal')}人"
        rf"(?:[、，,]敏感個人資料{_n('sensitive')}人)?",
        "登記冊中輸出方{年份}年累計個人資料{人數}人[、敏感個人資料{人數}人]",
        "登記冊中輸出方2026年累計個人資料11萬人、敏感個人資料0人",
    ),
    Phrase(s.replayed, r"是次提交(?:(?P<neg>不)是|是)重複提交", "是次提交[不]是重複提交", "是次提交是重複提交"),
]
