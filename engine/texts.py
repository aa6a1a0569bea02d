"""The engine's own messages, in the three languages users read.

Rule packs carry the legal messages; these are the few the engine says itself (fail closed, what
is missing). Kept in one place so that a translator finds them all.
"""

from __future__ import annotations

import re

from engine.models import Messages

NO_ROUTE_RULE = "engine.no-route"
NO_ROUTE_CITATION = "baygate engine policy: fail closed (docs/law/README.md, 'How the engine decides')"
NO_ROUTE_REVIEW = "no-route"
"""The id of the review item a transfer no rule decided waits for (earlier decisions: the prose
"legal review of the route", read as this id by engine.stored_shapes)."""
OVERRIDDEN_RULE = "engine.exemption-overridden"

EXEMPTION_ARTICLES = {
    "non_personal": ("Provisions (2024) art. 3", "《促进和规范数据跨境流动规定》第三条",
                     "《促進和規範數據跨境流動規定》第三條"),
    "foreign_reexport": ("Provisions (2024) art. 4", "《促进和规范数据跨境流动规定》第四条",
                         "《促進和規範數據跨境流動規定》第四條"),
    "contract_necessity": ("Provisions (2024) art. 5(1)", "《促进和规范数据跨境流动规定》第五条第一项",
                           "《促進和規範數據跨境流動規定》第五條第一項"),
    "hr_management": ("Provisions (2024) art. 5(2)", "《促进和规范数据跨境流动规定》第五条第二项",
                      "《促進和規範數據跨境流動規定》第五條第二項"),
    "emergency": ("Provisions (2024) art. 5(3)", "《促进和规范数据跨境流动规定》第五条第三项",
                  "《促進和規範數據跨境流動規定》第五條第三項"),
    "under_threshold": ("Provisions (2024) art. 5(4)", "《促进和规范数据跨境流动规定》第五条第四项",
                        "《促進和規範數據跨境流動規定》第五條第四項"),
    "ftz_negative_list": ("Provisions (2024) art. 6", "《促进和规范数据跨境流动规定》第六条",
                          "《促進和規範數據跨境流動規定》第六條"),
    "statutory_duty": ("Network Data Security Management Regulations art. 35(6)",
                       "《网络数据安全管理条例》第三十五条第六项", "《網絡數據安全管理條例》第三十五條第六項"),
}
LEVEL_NAMES = {
    "prohibited": ("the prohibition", "禁止出境的规定", "禁止出境的規定"),
    "security_assessment": ("the security assessment", "数据出境安全评估的要求", "數據出境安全評估的要求"),
    "standard_contract": ("the standard contract or certification", "订立标准合同或者通过认证的要求",
                          "訂立標準合同或通過認證的要求"),
}
ENGINE_REASON_IDS = frozenset({NO_ROUTE_RULE, OVERRIDDEN_RULE})
"""The ids of reasons the engine gives itself (beside the packs' rules): a behaviour spec may name them."""

MECHANISM_NAMES = {
    "security_assessment": ("CAC security assessment", "网信部门数据出境安全评估", "網信部門數據出境安全評估"),
    "standard_contract": ("standard contract (filed)", "个人信息出境标准合同（备案）", "個人信息出境標準合同（備案）"),
    "gba_standard_contract": ("GBA standard contract (filed)", "大湾区个人信息跨境流动标准合同（备案）",
                              "大灣區個人信息跨境流動標準合同（備案）"),
    "certification": ("personal information protection certification", "个人信息保护认证", "個人信息保護認證"),
}


MECHANISM_SHORT_NAMES = {
    "security_assessment": ("CAC security assessment", "数据出境安全评估", "數據出境安全評估"),
    "standard_contract": ("standard contract", "个人信息出境标准合同", "個人信息出境標準合同"),
    "gba_standard_contract": ("GBA standard contract", "大湾区标准合同", "大灣區標準合同"),
    "certification": ("personal information protection certification", "个人信息保护认证", "個人信息保護認證"),
}
"""A mechanism's name where its reference follows ("met by GBA standard contract GD-2026-123")."""

REQUIRED_LEVEL_NAMES = {
    "none": ("no mechanism", "无需出境机制", "無須出境機制"),
    "standard_contract": ("contract tier", "标准合同级别", "標準合同級別"),
    "security_assessment": ("security assessment", "数据出境安全评估", "數據出境安全評估"),
    "prohibited": ("prohibited: no mechanism makes it lawful", "禁止：任何出境机制均不能使其合法",
                   "禁止：任何出境機制均不能使其合法"),
}
"""The levels a decision's ``mechanism`` names (DESIGN section 3), as a reader says them."""

LANGUAGE_INDEX = {"en": 0, "zh-Hans": 1, "zh-Hant": 2}


def named(table: dict[str, tuple[str, str, str]], key: str, lang: str) -> str:
    """``key``'s name in ``lang`` from one of the tables above; the key itself when unknown."""
    names = table.get(key)
    return names[LANGUAGE_INDEX.get(lang, 0)] if names else key


def due_words(due: str, lang: str) -> str:
    """An obligation's ``due`` (as the packs describe it, in English) in ``lang``."""
    fixed = {"before transfer": ("before the transfer", "出境前", "轉移前"),
             "ongoing": ("ongoing", "持续", "持續"),
             "on change": ("when the event occurs", "相关情况发生时", "相關情況發生時")}
    index = LANGUAGE_INDEX.get(lang, 0)
    if due in fixed:
        return fixed[due][index]
    match = re.fullmatch(r"within (\d+) Mainland working days after mechanism\.(\w+)\.effective_on", due)
    if match:
        days, mechanism = match.groups()
        name = named(MECHANISM_SHORT_NAMES, mechanism, lang)
        return (f"within {days} Mainland working days after the {name} takes effect",
                f"{name}生效之日起{days}个内地工作日内", f"{name}生效之日起{days}個內地工作日內")[index]
    return due


def due_note_words(note: str, lang: str) -> str:
    """A due date's caveat (engine.workdays) in ``lang``; an unknown caveat as written."""
    match = re.fullmatch(r"(\d{4}) is outside the Mainland holiday calendar known to this engine: counted on "
                         r"weekends only; check the State Council holiday notice", note)
    if match is None or lang == "en":
        return note
    year = match.group(1)
    if lang == "zh-Hans":
        return f"{year}年不在本引擎已知的内地节假日安排内：仅按周末计算，请核对国务院节假日安排通知"
    return f"{year}年不在本引擎已知的內地節假日安排內：僅按週末計算，請核對國務院節假日安排通知"


def msg(en: str, hans: str, hant: str) -> Messages:
    return Messages.model_validate({"en": en, "zh-Hans": hans, "zh-Hant": hant})


def no_route() -> Messages:
    return msg(
        "No rule decided the route for this transfer out of the Mainland; seek legal review.",
        "没有规则确定该数据出境的路径，请寻求法律审查。",
        "沒有規則確定該數據出境的路徑，請尋求法律審查。",
    )


def no_route_decided(exporter_jurisdiction: str, recipient_jurisdiction: str) -> Messages:
    """A transfer that is not one out of the Mainland and that no rule decided (no pack covers its
    exporter's law, or the packs say nothing of this case): never a bare 'permitted'."""
    pair = f"{exporter_jurisdiction or '?'} -> {recipient_jurisdiction or '?'}"
    return msg(
        f"No rule decided this transfer ({pair}): the rule packs do not cover it. Seek legal review under "
        "the law that governs the exporter.",
        f"没有规则确定该传输（{pair}）：规则包未涵盖此情形。请按适用于输出方的法律寻求法律审查。",
        f"沒有規則確定該傳輸（{pair}）：規則包未涵蓋此情形。請按適用於輸出方的法律尋求法律審查。",
    )


def exemption_overridden(exemptions: list[str], level: str, rule_ids: list[str]) -> Messages:
    """Where exemptions hold but a stronger rule still requires a mechanism or prohibits."""
    names = [EXEMPTION_ARTICLES.get(e, (e, e, e)) for e in exemptions]
    what = LEVEL_NAMES.get(level, (level, level, level))
    rules = ", ".join(rule_ids)
    return msg(
        f"The conditions of {'; '.join(f'{e} ({n[0]})' for e, n in zip(exemptions, names, strict=True))} hold, "
        f"but an exemption does not lift {what[0]} that {rules} imposes: that rule decides the route.",
        f"虽然符合{'；'.join(n[1] for n in names)}规定的豁免条件，但豁免不解除{rules}所规定的{what[1]}，"
        "出境路径以该规则为准。",
        f"雖然符合{'；'.join(n[2] for n in names)}規定的豁免條件，但豁免不解除{rules}所規定的{what[2]}，"
        "出境路徑以該規則為準。",
    )


def missing_mechanism(options: list[str], problems: list[Messages]) -> Messages:
    """What to put in place, and why each mechanism listed in the request does not count."""
    names = [MECHANISM_NAMES.get(option, (option, option, option)) for option in options]
    en = "Put in place one of: " + "; ".join(n[0] for n in names) + "."
    hans = "须具备以下任一机制：" + "；".join(n[1] for n in names) + "。"
    hant = "須具備以下任一機制：" + "；".join(n[2] for n in names) + "。"
    for problem in problems:
        en, hans, hant = en + " " + problem.en, hans + problem.zh_Hans, hant + problem.zh_Hant
    return msg(en, hans, hant)


def mechanism_does_not_fit(mechanism: str, reference: str) -> Messages:
    names = MECHANISM_SHORT_NAMES.get(mechanism, (mechanism, mechanism, mechanism))
    return msg(f"The {names[0]} {reference} in place does not fit this case.",
               f"现有的{names[1]} {reference} 不适用于本情形。",
               f"現有的{names[2]} {reference} 不適用於本情形。")


def mechanism_not_valid(mechanism: str, reference: str, day: object) -> Messages:
    names = MECHANISM_SHORT_NAMES.get(mechanism, (mechanism, mechanism, mechanism))
    return msg(f"The {names[0]} {reference} is not valid on {day} (not yet in effect, expired, or unfiled "
               "after its filing window).",
               f"{names[1]} {reference} 在{day}无效（尚未生效、已过期，或逾期未备案）。",
               f"{names[2]} {reference} 在{day}無效（尚未生效、已過期，或逾期未備案）。")


def no_eligible_mechanism() -> Messages:
    return msg(
        "A mechanism is required but none the engine knows fits this case; seek legal review.",
        "需要出境机制，但引擎所知的机制均不适用于本情形，请寻求法律审查。",
        "需要出境機制，但引擎所知的機制均不適用於本情形，請尋求法律審查。",
    )


def missing_approval(kind: str) -> Messages:
    return msg(
        f"Obtain the authority approval ({kind}) before the transfer.",
        f"出境前须取得主管机关批准（{kind}）。",
        f"出境前須取得主管機關批准（{kind}）。",
    )
