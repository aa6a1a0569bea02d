"""A decision as a compliance officer reads it in a terminal, in English or Chinese."""

from __future__ import annotations

import os

from engine.models import Decision

LANGS = ("en", "zh-Hans", "zh-Hant")

LABELS = {
    "en": {"outcome": "Outcome", "route": "Route", "options": "Any one of", "exemptions": "Exemptions",
           "missing": "Missing before the transfer", "reasons": "Reasons", "obligations": "Obligations",
           "due": "due", "done": "done", "open": "open", "unsure": "unsure", "counts": "Count this year",
           "rules": "Rules", "none": "none", "permitted": "PERMITTED", "conditional": "CONDITIONAL",
           "prohibited": "PROHIBITED"},
    "zh-Hans": {"outcome": "结论", "route": "路径", "options": "任选其一", "exemptions": "豁免",
                "missing": "出境前尚缺", "reasons": "理由", "obligations": "义务", "due": "期限",
                "done": "已完成", "open": "未完成", "unsure": "存疑", "counts": "本年累计", "rules": "规则",
                "none": "无", "permitted": "允许", "conditional": "有条件", "prohibited": "禁止"},
    "zh-Hant": {"outcome": "結論", "route": "路徑", "options": "任選其一", "exemptions": "豁免",
                "missing": "出境前尚缺", "reasons": "理由", "obligations": "義務", "due": "期限",
                "done": "已完成", "open": "未完成", "unsure": "存疑", "counts": "本年累計", "rules": "規則",
                "none": "無", "permitted": "允許", "conditional": "有條件", "prohibited": "禁止"},
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


def summary(decision: Decision, lang: str, source: str = "") -> str:
    label = LABELS.get(lang, LABELS["en"])
    lines = []
    head = f"{decision.reference}" + (f"  ({source})" if source else "")
    lines.append(head)
    lines.append(f"  {label['outcome']}: {label[decision.outcome]}")
    route: str = decision.mechanism
    if decision.mechanism_options:
        route += f"  ({label['options']}: {', '.join(decision.mechanism_options)})"
    lines.append(f"  {label['route']}: {route}")
    if decision.exemptions:
        lines.append(f"  {label['exemptions']}: {', '.join(decision.exemptions)}")
    if decision.missing:
        lines.append(f"  {label['missing']}:")
        for item in decision.missing:
            key = item.mechanism or item.obligation or item.approval or item.review or ""
            text = item.text.get(lang) if item.text else ""
            lines.append(f"    - {key}: {text}")
    lines.append(f"  {label['reasons']}:")
    for reason in decision.reasons:
        mark = f" [{label['unsure']}: {reason.unsure}]" if reason.unsure else ""
        lines.append(f"    - {reason.rule} ({reason.citation}){mark}")
        lines.append(f"      {reason.message.get(lang)}")
    if decision.obligations:
        lines.append(f"  {label['obligations']}:")
        for obligation in decision.obligations:
            state = label["done"] if obligation.satisfied else label["open"]
            due = obligation.due + (f" -> {obligation.due_date}" if obligation.due_date else "")
            lines.append(f"    - [{state}] {obligation.id} ({label['due']}: {due}; {obligation.citation})")
            lines.append(f"      {obligation.text.get(lang)}")
            if obligation.due_note:
                lines.append(f"      ({obligation.due_note})")
    counts = decision.counts
    lines.append(f"  {label['counts']} {counts.year}: {counts.personal_subjects_before} -> "
                 f"{counts.personal_subjects_after} / sensitive {counts.sensitive_subjects_before} -> "
                 f"{counts.sensitive_subjects_after}")
    lines.append(f"  {label['rules']}: {decision.rules.digest[:19]}  " + ", ".join(
        f"{name} {version}" for name, version in sorted(decision.rules.packs.items())))
    return "\n".join(lines)
