"""A decision as a compliance officer reads it in a terminal, in English or Chinese.

The words of the summary are here, the engine's and the packs' messages come with the decision.
Traditional Chinese uses Hong Kong terms where a word is not about Mainland law ("轉移" for a
transfer, "個人資料" for personal data in the counts): a reader in Hong Kong is its first reader.
"""

from __future__ import annotations

import os

from engine.models import Decision, MissingMechanism, SatisfiedBy
from engine.texts import MECHANISM_SHORT_NAMES, REQUIRED_LEVEL_NAMES, due_note_words, due_words, named

LANGS = ("en", "zh-Hans", "zh-Hant")

LANGUAGE_ALIASES = {
    "en": "en", "en-US": "en", "en-GB": "en", "en-HK": "en",
    "zh-Hans": "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh": "zh-Hans",
    "zh-Hant": "zh-Hant", "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant",
}
"""What ``--lang`` accepts (any case, ``_`` or ``-``), and the language of the output for each: the
messages exist in English, Simplified and Traditional Chinese."""


def language(value: str) -> str | None:
    """The output language for a ``--lang`` value or locale tag, None when there is none."""
    wanted = value.replace("_", "-").split(".")[0].lower()
    for tag, lang in LANGUAGE_ALIASES.items():
        if tag.lower() == wanted:
            return lang
    return None


LABELS = {
    "en": {"outcome": "Outcome", "required": "Required", "met_by": "met by", "options": "any one of",
           "exemptions": "Exemptions", "missing": "Missing before the transfer", "reasons": "Reasons",
           "obligations": "Obligations", "due": "due", "done": "done", "open": "open", "unsure": "unsure",
           "counts": "Count for", "sensitive": "sensitive",
           "why_not_permitted": "not counted: not permitted as it stands",
           "why_exempt": "not counted: an exemption keeps it out of the count", "counted": "counted when recorded",

           "rules": "Rules", "permitted": "PERMITTED", "conditional": "CONDITIONAL", "prohibited": "PROHIBITED",
           "mechanism": "mechanism", "obligation": "obligation", "approval": "approval", "review": "legal review"},
    "zh-Hans": {"outcome": "结论", "required": "所需", "met_by": "已由", "met_by_end": "满足", "options": "任选其一",
                "exemptions": "豁免", "missing": "出境前尚缺", "reasons": "理由", "obligations": "义务",
                "due": "期限", "done": "已完成", "open": "未完成", "unsure": "存疑", "counts": "累计",
                "sensitive": "敏感", "why_not_permitted": "不计入：按现状未获允许",
                "why_exempt": "不计入：所适用的豁免不计入累计", "counted": "记录后计入", "rules": "规则",
                "permitted": "允许", "conditional": "有条件", "prohibited": "禁止",
                "mechanism": "机制", "obligation": "义务", "approval": "审批", "review": "法律审查"},
    "zh-Hant": {"outcome": "結論", "required": "所需", "met_by": "已由", "met_by_end": "滿足", "options": "任選其一",
                "exemptions": "豁免", "missing": "轉移前尚缺", "reasons": "理由", "obligations": "義務",
                "due": "期限", "done": "已完成", "open": "未完成", "unsure": "存疑", "counts": "累計",
                "sensitive": "敏感", "why_not_permitted": "不計入：按現狀未獲允許",
                "why_exempt": "不計入：所適用的豁免不計入累計", "counted": "記錄後計入", "rules": "規則",
                "permitted": "允許", "conditional": "有條件", "prohibited": "禁止",
                "mechanism": "機制", "obligation": "義務", "approval": "批准", "review": "法律審查"},
}


def default_language() -> str:
    """From the locale: zh_CN -> zh-Hans, zh_TW / zh_HK / zh_MO -> zh-Hant, else en."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value.startswith("zh"):
            return "zh-Hant" if any(tag in value for tag in ("TW", "HK", "MO", "Hant")) else "zh-Hans"
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "en"
    return "en"


def mechanism_in_place(satisfied_by: SatisfiedBy, lang: str) -> str:
    return f"{named(MECHANISM_SHORT_NAMES, satisfied_by.type, lang)} {satisfied_by.reference}"


def required_line(decision: Decision, lang: str) -> str:
    """'Required: contract tier — met by GBA standard contract GD-2026-123', or the options when no
    mechanism in place meets it."""
    label = LABELS.get(lang, LABELS["en"])
    line = f"{label['required']}: {named(REQUIRED_LEVEL_NAMES, decision.mechanism, lang)}"
    if decision.satisfied_by is not None:
        in_place = mechanism_in_place(decision.satisfied_by, lang)
        if lang == "en":
            return f"{line} — {label['met_by']} {in_place}"
        return f"{line} — {label['met_by']}{in_place} {label['met_by_end']}"
    if decision.mechanism_options:
        sep = ", " if lang == "en" else "、"
        names = sep.join(named(MECHANISM_SHORT_NAMES, option, lang) for option in decision.mechanism_options)
        return f"{line} — {label['options']}: {names}"
    return line


def _missing_lines(decision: Decision, lang: str) -> list[str]:
    label = LABELS.get(lang, LABELS["en"])
    lines = []
    for item in decision.missing:
        head = label[item.kind] if isinstance(item, MissingMechanism) else f"{label[item.kind]} {item.id}"
        lines.append(f"    - [{head}] {item.text.get(lang)}")
    return lines


def _counts_line(decision: Decision, lang: str) -> str:
    label = LABELS.get(lang, LABELS["en"])
    counts = decision.counts
    head = f"  {label['counts']} {counts.year}: "
    if counts.counted:
        return (head + f"{counts.personal_subjects_before:,} -> "
                f"{counts.personal_subjects_after:,} / {label['sensitive']} "
                f"{counts.sensitive_subjects_before:,} -> "
                f"{counts.sensitive_subjects_after:,} ({label['counted']})")
    why = label["why_not_permitted"] if decision.outcome != "permitted" else label["why_exempt"]
    return (head + f"{counts.personal_subjects_before:,} / {label['sensitive']} "
            f"{counts.sensitive_subjects_before:,} ({why})")


def summary(decision: Decision, lang: str, source: str = "") -> str:
    label = LABELS.get(lang, LABELS["en"])
    lines = [f"{decision.reference}" + (f"  ({source})" if source else "")]
    lines.append(f"  {label['outcome']}: {label[decision.outcome]}")
    lines.append(f"  {required_line(decision, lang)}")
    if decision.exemptions:
        lines.append(f"  {label['exemptions']}: {', '.join(decision.exemptions)}")
    if decision.missing:
        lines.append(f"  {label['missing']}:")
        lines += _missing_lines(decision, lang)
    lines.append(f"  {label['reasons']}:")
    for reason in decision.reasons:
        mark = f" [{label['unsure']}: {reason.unsure}]" if reason.unsure else ""
        lines.append(f"    - {reason.rule} ({reason.citation}){mark}")
        lines.append(f"      {reason.message.get(lang)}")
    if decision.obligations:
        lines.append(f"  {label['obligations']}:")
        for obligation in decision.obligations:
            state = label["done"] if obligation.satisfied else label["open"]
            due = due_words(obligation.due, lang) + (f" -> {obligation.due_date}" if obligation.due_date else "")
            lines.append(f"    - [{state}] {obligation.id} ({label['due']}: {due}; {obligation.citation})")
            lines.append(f"      {obligation.text.get(lang)}")
            if obligation.due_note:
                lines.append(f"      ({due_note_words(obligation.due_note, lang)})")
    lines.append(_counts_line(decision, lang))
    lines.append(f"  {label['rules']}: {decision.rules.digest[:19]}  " + ", ".join(
        f"{name} {version}" for name, version in sorted(decision.rules.packs.items())))
    return "\n".join(lines)
