"""No rule cites an instrument before it came into force (issue 20, point 9): for every shipped rule, its
citation and those of the obligations it adds name only instruments in force on its first day. Where an
instrument takes effect mid-way through a rule's window, the rule is split at that date (docs/law/README.md,
'How the engine decides'). The in-force dates are those docs/law/ gives."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping

from engine.rulespec import ObligationSpec, PackSet, RuleSpec

IN_FORCE: dict[str, dt.date] = {
    # docs/law/network-data-regulations.md, certification.md, compliance-audit.md, cybersecurity-law.md
    r"Network Data Security Management Regulations": dt.date(2025, 1, 1),
    r"Measures for the Certification of Outbound Transfers": dt.date(2026, 1, 1),
    r"Announcement on Implementing Personal Information Protection Certification": dt.date(2022, 11, 4),
    r"Compliance Audit Measures": dt.date(2025, 5, 1),
    r"Cybersecurity Law \(2025 amendment\)": dt.date(2026, 1, 1),
    r"Cybersecurity Law \(2016\)": dt.date(2017, 6, 1),
    # docs/law/cn-outbound.md, pipl.md
    r"Measures for the Security Assessment of Outbound Data Transfers": dt.date(2022, 9, 1),
    r"Measures on the Standard Contract for Outbound Transfer": dt.date(2023, 6, 1),
    r"Provisions on Promoting and Regulating Cross-Border Data Flows": dt.date(2024, 3, 22),
    r"Security Assessment of Outbound Data Transfers, 1st ed\.": dt.date(2022, 8, 31),
    r"Filing the Standard Contract, 2nd ed\.": dt.date(2024, 3, 22),
    r"Security Assessment of Outbound Data Transfers, 3rd ed\.": dt.date(2025, 6, 27),
    r"Q&A \(2025-10-31\)": dt.date(2025, 10, 31),
    r"PIPL \(2021\)": dt.date(2021, 11, 1),
    r"Data Security Law \(2021\)": dt.date(2021, 9, 1),
    # docs/law/state-secrets.md, gba.md, hk-pdpo.md, macao.md
    r"Law on Guarding State Secrets \(2024 revision\)": dt.date(2024, 5, 1),
    r"\(Mainland, HK\) Standard Contract Implementation Guidelines": dt.date(2023, 12, 13),
    r"\(Mainland, Macao\) Standard Contract Implementation Guidelines": dt.date(2024, 9, 10),
    r"DPO press release of 2024-11-01": dt.date(2024, 11, 1),
    r"Part VIA": dt.date(2013, 4, 1),
    r"Model Contractual Clauses": dt.date(2022, 5, 1),
    r"Macao Personal Data Protection Act": dt.date(2006, 2, 18),
    # docs/law/sectors.md
    r"Several Provisions on Automotive Data Security": dt.date(2021, 10, 1),
    r"Automotive Data Outbound Security Guidelines": dt.date(2026, 1, 30),
    r"Human Genetic Resources \(2019, rev\. 2024\)": dt.date(2024, 5, 1),
    r"Human Genetic Resources \(2019\)": dt.date(2019, 7, 1),
    r"HGR Implementation Rules": dt.date(2023, 7, 1),
    r"Measures for the Administration of Credit Reporting Business": dt.date(2022, 1, 1),
    r"JR/T 0171-2020": dt.date(2020, 2, 13),
    r"National Health and Medical Big Data Measures": dt.date(2018, 7, 12),
    r"Hetao": dt.date(2026, 3, 1),
}


def anachronisms(rules: Iterable[RuleSpec], obligations: Mapping[str, ObligationSpec]) -> list[str]:
    found = []
    for rule in rules:
        cited = [(f"rule {rule.id}", rule.cite)]
        cited += [(f"rule {rule.id}, obligation {oid}", obligations[oid].cite) for oid in rule.then.obligations]
        for where, citation in cited:
            for pattern, in_force in IN_FORCE.items():
                if re.search(pattern, citation) and in_force > rule.effective_from:
                    found.append(f"{where} (from {rule.effective_from}) cites {pattern!r}, in force {in_force}")
    return found


def test_no_rule_cites_an_instrument_not_yet_in_force(pack_set: PackSet) -> None:
    assert anachronisms(pack_set.rules, pack_set.obligations) == []


def test_the_check_sees_an_anachronism(pack_set: PackSet) -> None:
    rule = next(r for r in pack_set.rules if r.id == "cn.pi.ciio.2024")
    early = dataclasses.replace(rule, cite=rule.cite + "; Network Data Security Management Regulations (2024), art. 37")
    assert anachronisms([early], pack_set.obligations) == [
        "rule cn.pi.ciio.2024 (from 2024-03-22) cites 'Network Data Security Management Regulations', in force "
        "2025-01-01"]
