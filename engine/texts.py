"""The engine's own messages, in the three languages users read.

Rule packs carry the legal messages; these are the few the engine says itself (fail closed, what
is missing). Kept in one place so that a translator finds them all.
"""

from __future__ import annotations

from engine.models import Messages

NO_ROUTE_RULE = "engine.no-route"
NO_ROUTE_CITATION = "baygate engine policy: fail closed (DESIGN section 4)"

MECHANISM_NAMES = {
    "security_assessment": ("CAC security assessment", "网信部门数据出境安全评估", "網信部門數據出境安全評估"),
    "standard_contract": ("standard contract (filed)", "个人信息出境标准合同（备案）", "個人信息出境標準合同（備案）"),
    "gba_standard_contract": ("GBA standard contract (filed)", "大湾区个人信息跨境流动标准合同（备案）",
                              "大灣區個人信息跨境流動標準合同（備案）"),
    "certification": ("personal information protection certification", "个人信息保护认证", "個人信息保護認證"),
}


def msg(en: str, hans: str, hant: str) -> Messages:
    return Messages.model_validate({"en": en, "zh-Hans": hans, "zh-Hant": hant})


def no_route() -> Messages:
    return msg(
        "No rule decided the route for this transfer out of the Mainland; seek legal review.",
        "没有规则确定该数据出境的路径，请寻求法律审查。",
        "沒有規則確定該數據出境的路徑，請尋求法律審查。",
    )


def missing_mechanism(options: list[str], problems: list[str]) -> Messages:
    names = [MECHANISM_NAMES.get(option, (option, option, option)) for option in options]
    en = "Put in place one of: " + "; ".join(n[0] for n in names) + "."
    hans = "须具备以下任一机制：" + "；".join(n[1] for n in names) + "。"
    hant = "須具備以下任一機制：" + "；".join(n[2] for n in names) + "。"
    if problems:
        en += " " + " ".join(problems)
    return msg(en, hans, hant)


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
