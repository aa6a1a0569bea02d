"""The words compliance staff write, mapped to the contract's values (DESIGN section 3).

A feature says "medical health", "医疗健康" or "醫療健康"; the request needs ``medical_health``.
Every vocabulary accepts the contract's own id too (``medical_health``), so a feature in any
language can fall back on the precise value. Lookups are shared by the three step libraries:
the words differ, the meaning must not. An unknown word fails the step with the list of words
that are known, so the author of a feature sees what to write instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from engine.fact_registry import EXEMPTION_IDS, GBA_MAINLAND_CITIES
from engine.models import (
    APPROVAL_KINDS,
    CLASSIFICATIONS,
    MECHANISM_TYPES,
    MODES,
    PARTY_KINDS,
    PURPOSES,
    SENSITIVE_TYPES,
    TAGS,
)


class VocabularyError(ValueError):
    """A word in a feature that no vocabulary knows: the step fails with the known words."""


def word_key(text: str) -> str:
    """Case, spaces, hyphens and surrounding quotes do not matter: 'Medical-health' = medical_health."""
    text = text.strip().strip("\"'“”「」『』").strip()
    return re.sub(r"[\s\-]+", "_", text.lower())


class Vocabulary:
    """One closed list of contract values and the words (in three languages) that name them."""

    def __init__(self, what: str, ids: Iterable[str], words: Mapping[str, Iterable[str]]) -> None:
        self.what = what
        self.ids = tuple(ids)
        self._lookup: dict[str, str] = {word_key(value): value for value in self.ids}
        for value, aliases in words.items():
            assert value in self.ids, f"{what}: {value} is not a contract value"
            for alias in aliases:
                self._lookup[word_key(alias)] = value

    def __call__(self, text: str) -> str:
        found = self._lookup.get(word_key(text))
        if found is None:
            known = ", ".join(sorted(self._lookup))
            raise VocabularyError(f"unknown {self.what} {text!r}; known: {known}")
        return found

    def many(self, text: str) -> list[str]:
        """A list written as 'a, b and c', 'a、b和c' or 'a，b 及 c'; 'none'/'无'/'無' is the empty list."""
        if word_key(text) in NONE_WORDS:
            return []
        if word_key(text) in self._lookup:  # "surveying and mapping" is one term, not two
            return [self._lookup[word_key(text)]]
        parts = re.split(r"\s*(?:,|，|、|;|；|\band\b|\bor\b|和|及|与|與|或)\s*", text.strip())
        return [self(part) for part in parts if part.strip()]

    def words(self) -> dict[str, list[str]]:
        """Every accepted word per value, for the README."""
        result: dict[str, list[str]] = {value: [] for value in self.ids}
        for word, value in self._lookup.items():
            result[value].append(word)
        return result


NONE_WORDS = frozenset({"none", "nothing", "no", "无", "無", "没有", "沒有", "不需要", "[]", "-", ""})

PARTY_KIND = Vocabulary("party kind", PARTY_KINDS, {
    "company": ("company", "business", "公司", "企业", "企業", "商业机构", "商業機構"),
    "research_institution": ("research institution", "research institute", "university",
                             "科研机构", "科研機構", "研究机构", "研究機構", "大学", "大學"),
    "state_organ": ("state organ", "government department", "government office", "国家机关", "國家機關",
                    "政府部门", "政府部門"),
    "public_institution": ("public institution", "public hospital", "public university", "事业单位", "事業單位",
                           "公立医院", "公立醫院", "公立大学", "公立大學"),
    "individual": ("individual", "person", "个人", "個人", "自然人"),
})

PURPOSE = Vocabulary("purpose", PURPOSES, {
    "contract_performance": ("contract performance", "performing a contract with the individuals",
                             "订立履行合同", "合同履行", "訂立履行合同", "履行合約"),
    "business_services": ("business services", "outsourcing", "业务服务", "委托处理", "業務服務", "外判"),
    "hr_management": ("hr management", "human resources", "cross-border hr management",
                      "人力资源管理", "跨境人力资源管理", "人力資源管理", "跨境人力資源管理"),
    "emergency_protection": ("emergency", "emergency protection", "紧急情况", "紧急保护", "緊急情況",
                             "緊急保護"),
    "transit": ("transit", "转运", "過境", "轉運"),
    "international_trade": ("international trade", "trade", "国际贸易", "國際貿易"),
    "academic_cooperation": ("academic cooperation", "学术合作", "學術合作"),
    "cross_border_manufacturing": ("cross-border manufacturing", "跨境生产制造", "跨境生產製造"),
    "research": ("research", "scientific research", "科学研究", "科研", "科學研究"),
    "financial_services": ("financial services", "金融服务", "金融服務"),
    "healthcare": ("healthcare", "health care", "医疗服务", "医疗", "醫療服務", "醫療"),
    "judicial_request": ("judicial request", "a judicial request", "court order", "司法协助请求",
                         "司法执法请求", "司法協助請求", "司法執法請求"),
    "statutory_duty": ("statutory duty", "statutory obligation", "法定职责", "法定义务", "法定義務", "法定職責"),
    "direct_marketing": ("direct marketing", "the recipient's direct marketing", "直接营销", "直接促销",
                         "直接促銷"),
    "other": ("other", "其他", "其它"),
})

MODE = Vocabulary("mode", MODES, {
    "provide": ("provide", "sending a copy", "提供", "传输", "傳送"),
    "remote_access": ("remote access", "accessed remotely", "境外远程访问", "远程访问", "遙距存取",
                      "境外遙距存取"),
    "storage_abroad": ("storage abroad", "stored abroad", "境外存储", "境外儲存"),
})

SENSITIVE = Vocabulary("sensitive type", SENSITIVE_TYPES, {
    "biometric": ("biometric", "biometrics", "生物识别", "生物識別", "人脸", "人臉"),
    "religious_belief": ("religious belief", "religion", "宗教信仰"),
    "specific_identity": ("specific identity", "特定身份"),
    "medical_health": ("medical health", "health", "medical", "医疗健康", "醫療健康", "健康"),
    "financial_account": ("financial account", "financial accounts", "金融账户", "金融賬戶", "金融帳戶"),
    "whereabouts": ("whereabouts", "location", "行踪轨迹", "行蹤軌跡"),
    "minors_under_14": ("minors under 14", "children under 14", "不满十四周岁未成年人",
                        "不满14周岁未成年人", "未滿十四歲兒童", "未滿14歲兒童"),
})

CLASSIFICATION = Vocabulary("classification", CLASSIFICATIONS, {
    "general": ("general", "一般数据", "一般", "一般數據"),
    "important": ("important", "important data", "重要数据", "重要", "重要數據"),
    "core": ("core", "core data", "核心数据", "核心", "核心數據"),
    "state_secret": ("state secret", "a state secret", "国家秘密", "國家秘密"),
})

TAG = Vocabulary("tag", TAGS, {
    "human_genetic_resources": ("human genetic resources", "人类遗传资源", "人類遺傳資源"),
    "surveying_mapping": ("surveying and mapping", "surveying mapping", "map data", "测绘", "测绘地理信息",
                          "測繪", "測繪地理資訊"),
    "credit_reporting": ("credit reporting", "credit referencing", "征信", "徵信", "信貸資料"),
    "personal_financial": ("personal financial", "personal financial information", "个人金融信息",
                           "個人金融資料", "個人金融信息"),
    "automotive": ("automotive", "vehicle data", "汽车数据", "汽车", "汽車數據", "汽車"),
    "research": ("research", "科研数据", "科研", "科研數據"),
    "population_health": ("population health", "人口健康", "人口健康信息", "人口健康資料"),
})

MECHANISM = Vocabulary("mechanism", MECHANISM_TYPES, {
    "security_assessment": ("security assessment", "a security assessment", "cac security assessment",
                            "安全评估", "数据出境安全评估", "安全評估", "數據出境安全評估"),
    "standard_contract": ("standard contract", "a standard contract", "national standard contract",
                          "标准合同", "个人信息出境标准合同", "標準合同", "個人信息出境標準合同"),
    "gba_standard_contract": ("gba standard contract", "a gba standard contract",
                              "大湾区标准合同", "大湾区个人信息跨境流动标准合同",
                              "大灣區標準合同", "大灣區個人信息跨境流動標準合同"),
    "certification": ("certification", "a certification", "认证", "个人信息保护认证", "認證",
                      "個人信息保護認證"),
})

LEVEL = Vocabulary("mechanism level", ("none", "standard_contract", "security_assessment", "prohibited"), {
    "none": ("none", "no mechanism", "无", "無", "不需要"),
    "standard_contract": ("standard contract", "contract tier", "标准合同", "標準合同", "标准合同档",
                          "標準合同級別"),
    "security_assessment": ("security assessment", "安全评估", "安全評估"),
    "prohibited": ("prohibited", "禁止", "不得出境"),
})

OUTCOME = Vocabulary("outcome", ("permitted", "conditional", "prohibited"), {
    "permitted": ("permitted", "allowed", "允许", "准许", "允許", "准許", "可以出境"),
    "conditional": ("conditional", "附条件", "有条件", "附條件", "有條件"),
    "prohibited": ("prohibited", "forbidden", "禁止", "不得出境"),
})

EXEMPTION = Vocabulary("exemption", EXEMPTION_IDS, {
    "non_personal": ("non personal", "no personal information", "非个人数据", "不含个人信息",
                     "非個人資料", "不含個人資料"),
    "foreign_reexport": ("foreign reexport", "foreign re-export", "境外回传", "境外數據回傳", "境外回傳"),
    "contract_necessity": ("contract necessity", "合同必需", "订立履行合同所必需", "合約必需",
                           "訂立履行合同所必需"),
    "hr_management": ("hr management", "人力资源管理", "人力資源管理"),
    "emergency": ("emergency", "紧急情况", "緊急情況"),
    "under_threshold": ("under threshold", "de minimis", "不满10万人", "不满十万人", "不滿10萬人",
                        "不滿十萬人", "未达门槛", "未達門檻"),
    "ftz_negative_list": ("ftz negative list", "负面清单", "自贸区负面清单", "負面清單", "自貿區負面清單"),
    "statutory_duty": ("statutory duty", "法定职责", "法定職責"),
})

APPROVAL = Vocabulary("approval", APPROVAL_KINDS, {
    "foreign_judicial_request": ("foreign judicial request", "judicial request", "司法协助", "司法協助",
                                 "外国司法执法请求", "外國司法執法請求"),
    "state_secret": ("state secret", "state secrets", "国家秘密", "國家秘密"),
    "human_genetic_resources_filing": ("human genetic resources filing", "人类遗传资源备案",
                                       "人類遺傳資源備案"),
    "human_genetic_resources_review": ("human genetic resources review", "人类遗传资源审批",
                                       "人類遺傳資源審批"),
    "surveying_mapping": ("surveying and mapping", "surveying mapping", "测绘", "測繪"),
    "other": ("other", "其他"),
})

SWITCH_ON = frozenset({"on", "true", "yes", "开启", "開啟", "是", "启用", "啟用"})
SWITCH_OFF = frozenset({"off", "false", "no", "关闭", "關閉", "否", "停用"})


def switch(text: str) -> bool:
    """An option value: on/off, true/false, 开启/关闭, 開啟/關閉."""
    key = word_key(text)
    if key in SWITCH_ON:
        return True
    if key in SWITCH_OFF:
        return False
    raise VocabularyError(f"expected on or off (true/false, 开启/关闭, 開啟/關閉), got {text!r}")


# Places: a party is "in" a city; the city decides the jurisdiction and GBA membership.
_MAINLAND_CITIES = set(GBA_MAINLAND_CITIES) | {
    "beijing", "北京", "北京市", "shanghai", "上海", "上海市", "hangzhou", "杭州", "chengdu", "成都",
    "wuhan", "武汉", "武漢", "tianjin", "天津", "chongqing", "重庆", "重慶", "xiamen", "厦门", "廈門",
    "shantou", "汕头", "汕頭", "nanjing", "南京",
}
_PLACES: dict[str, tuple[str, str | None]] = {
    "hong_kong": ("HK", None), "hongkong": ("HK", None), "香港": ("HK", None), "香港特别行政区": ("HK", None),
    "香港特別行政區": ("HK", None),
    "macao": ("MO", None), "macau": ("MO", None), "澳门": ("MO", None), "澳門": ("MO", None),
    "singapore": ("SG", None), "新加坡": ("SG", None),
    "the_united_states": ("US", None), "united_states": ("US", None), "美国": ("US", None), "美國": ("US", None),
    "the_united_kingdom": ("GB", None), "united_kingdom": ("GB", None), "英国": ("GB", None),
    "英國": ("GB", None),
    "japan": ("JP", None), "日本": ("JP", None), "germany": ("DE", None), "德国": ("DE", None),
    "德國": ("DE", None),
}


def place(text: str) -> tuple[str, str | None]:
    """(jurisdiction, city) of a place: 'Shenzhen', '深圳', 'Hong Kong', '香港', or 'Kyiv, UA'."""
    text = text.strip()
    explicit = re.fullmatch(r"(?P<city>.+?)\s*[,，]\s*(?P<code>[A-Z]{2})", text)
    if explicit:
        return explicit["code"], explicit["city"]
    key = word_key(text)
    if key in _PLACES:
        return _PLACES[key]
    if key in _MAINLAND_CITIES or key.removesuffix("市") in _MAINLAND_CITIES:
        return "CN", text
    raise VocabularyError(
        f"unknown place {text!r}: write a Mainland city (Shenzhen, 深圳, Beijing ...), Hong Kong, Macao, "
        "or 'City, CC' with the ISO country code (e.g. 'Kyiv, UA')")


_CN_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}


def number(text: str) -> int:
    """A count as written: 120,000 / 120000 / 120 000 / 12万 / 12萬 / 100万."""
    cleaned = re.sub(r"[\s,，_]", "", text)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([万萬亿億]?)", cleaned)
    if not match:
        raise VocabularyError(f"not a number: {text!r}")
    value = float(match[1]) * _CN_UNITS.get(match[2], 1)
    if value != int(value):
        raise VocabularyError(f"not a whole number of individuals: {text!r}")
    return int(value)


def date(text: str) -> dt.date:
    """A date as written: 2026-12-01 or 2026年12月1日."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if match:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise VocabularyError(f"not a date (write 2026-12-01 or 2026年12月1日): {text!r}") from None


NUMBER_RE = r"\d[\d,，\s]*(?:\.\d+)?[万萬亿億]?"
"""What a count looks like in a step; vocab.number reads it."""
DATE_RE = r"\d{4}-\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日"
"""What a date looks like in a step; vocab.date reads it."""
