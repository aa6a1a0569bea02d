"""Plain-language labels for the contract's codes (DESIGN section 3), marked for translation.

The codes themselves (``medical_health``, ``gba_standard_contract``) stay in the request a user
downloads; the page shows these words instead. Every value of every choice has a label here; a test
checks that against ``engine.models``, so a value added there cannot appear on the page unlabelled.
"""

from __future__ import annotations

from api.web.i18n import N_
from engine import models

PARTY_KINDS = {
    "company": N_("Company"),
    "research_institution": N_("Research institution"),
    "public_institution": N_("Public institution (public hospital, university)"),
    "state_organ": N_("State organ"),
    "individual": N_("Individual"),
}

PURPOSES = {
    "contract_performance": N_("A contract the individuals are party to (shopping, delivery, payment, bookings)"),
    "business_services": N_("Services between organisations (outsourcing, group sharing)"),
    "hr_management": N_("Human resources management"),
    "emergency_protection": N_("Emergency: protecting life, health or property"),
    "transit": N_("Data only passing through the Mainland"),
    "international_trade": N_("International trade"),
    "academic_cooperation": N_("Academic cooperation"),
    "cross_border_manufacturing": N_("Cross-border manufacturing"),
    "research": N_("Research"),
    "financial_services": N_("Financial services"),
    "healthcare": N_("Healthcare"),
    "judicial_request": N_("A request from a foreign court or law enforcement authority"),
    "statutory_duty": N_("A duty under law"),
    "direct_marketing": N_("The recipient's own direct marketing"),
    "other": N_("Other"),
}

MODES = {
    "provide": N_("A copy is sent"),
    "remote_access": N_("Read from abroad (remote access)"),
    "storage_abroad": N_("Stored or processed abroad"),
}

DATA_KINDS = {"personal": N_("Personal information"), "non_personal": N_("Not personal information")}

SENSITIVE = {
    "biometric": N_("Biometric"),
    "religious_belief": N_("Religious belief"),
    "specific_identity": N_("Specific identity"),
    "medical_health": N_("Medical and health"),
    "financial_account": N_("Financial account"),
    "whereabouts": N_("Whereabouts and tracking"),
    "minors_under_14": N_("Minors under 14"),
}

CLASSIFICATIONS = {
    "general": N_("General"),
    "important": N_("Important data (notified or published as such)"),
    "core": N_("Core data"),
    "state_secret": N_("State secret"),
}

TAGS = {
    "human_genetic_resources": N_("Human genetic resources"),
    "surveying_mapping": N_("Surveying and mapping"),
    "credit_reporting": N_("Credit reporting"),
    "personal_financial": N_("Personal financial information"),
    "automotive": N_("Automotive"),
    "research": N_("Research"),
    "population_health": N_("Population health"),
}

MECHANISMS = {
    "security_assessment": N_("CAC security assessment"),
    "standard_contract": N_("Standard contract"),
    "gba_standard_contract": N_("GBA standard contract"),
    "certification": N_("Certification"),
}

LEVELS = {
    "none": N_("No mechanism"),
    "standard_contract": N_("Contract tier (standard contract, GBA standard contract or certification)"),
    "security_assessment": N_("CAC security assessment"),
    "prohibited": N_("Not possible"),
}

APPROVALS = {
    "foreign_judicial_request": N_("Approval of a foreign judicial request"),
    "state_secret": N_("State secrets approval"),
    "human_genetic_resources_filing": N_("Human genetic resources filing"),
    "human_genetic_resources_review": N_("Human genetic resources review"),
    "surveying_mapping": N_("Surveying and mapping approval"),
    "other": N_("Other approval"),
}

OUTCOMES = {
    "permitted": N_("Permitted"),
    "conditional": N_("Conditional"),
    "prohibited": N_("Prohibited"),
}

STATUSES = {"recorded": N_("In force"), "withdrawn": N_("Withdrawn")}

MISSING_KINDS = {
    "mechanism": N_("Mechanism"),
    "obligation": N_("Obligation"),
    "approval": N_("Approval"),
    "review": N_("Legal review"),
}

JURISDICTIONS = {
    "CN": N_("Mainland China"),
    "HK": N_("Hong Kong"),
    "MO": N_("Macao"),
}

GBA_CITIES = {
    "Guangzhou": N_("Guangzhou"),
    "Shenzhen": N_("Shenzhen"),
    "Zhuhai": N_("Zhuhai"),
    "Foshan": N_("Foshan"),
    "Huizhou": N_("Huizhou"),
    "Dongguan": N_("Dongguan"),
    "Zhongshan": N_("Zhongshan"),
    "Jiangmen": N_("Jiangmen"),
    "Zhaoqing": N_("Zhaoqing"),
}
"""The nine Mainland cities of the Greater Bay Area, as the engine recognises them
(``engine.facts.GBA_MAINLAND_CITIES``; a test holds the two together)."""

TALLIES = {
    "ytd.personal_subjects": N_("Individuals (personal information, not sensitive)"),
    "ytd.sensitive_subjects": N_("Individuals (sensitive personal information)"),
}

EVENT_KINDS = {"submission": N_("Recorded"), "withdrawal": N_("Withdrawn"), "amendment": N_("Amended")}

ROLES = {"submitter": N_("submitter"), "auditor": N_("auditor"), "rules_admin": N_("rules administrator")}


def label(table: dict[str, str], code: str | None) -> str:
    """The English label of ``code`` (translate it where shown); the code itself when unknown, so a
    value added by a later pack or model still shows."""
    if code is None:
        return ""
    return table.get(code, code)


def choices(table: dict[str, str], values: tuple[str, ...]) -> dict[str, str]:
    """The values the model accepts, in its order, with their labels: a form offers nothing the request
    would refuse, and a value the labels do not know yet still shows (as its code)."""
    return {value: table.get(value, value) for value in values}


FORM_CHOICES = {
    "party_kinds": choices(PARTY_KINDS, models.PARTY_KINDS),
    "purposes": choices(PURPOSES, models.PURPOSES),
    "modes": choices(MODES, models.MODES),
    "data_kinds": choices(DATA_KINDS, ("personal", "non_personal")),
    "sensitive": choices(SENSITIVE, models.SENSITIVE_TYPES),
    "classifications": choices(CLASSIFICATIONS, models.CLASSIFICATIONS),
    "tags": choices(TAGS, models.TAGS),
    "mechanisms": choices(MECHANISMS, models.MECHANISM_TYPES),
    "approvals": choices(APPROVALS, models.APPROVAL_KINDS),
}
