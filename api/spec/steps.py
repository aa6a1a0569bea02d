"""What every step does, once, for all three languages (``baygate test`` and the pytest-bdd suite alike).

A language module (steps_en, steps_zh_hans, steps_zh_hant) is a phrase book: for each handler
here, the sentences that call it, with a human template and an example. The handlers read the
phrase's named groups (plain text) and turn words into contract values through ``vocab``, so a
sentence in any language reaches the same request and the same check.

Named groups all default to None, so one handler serves several sentence forms (a contract
"took effect on ... and was filed on ...", or "... and has not been filed").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import vocab
from .world import World


@dataclass(frozen=True)
class Phrase:
    """One sentence a feature may use: the handler it calls, its pattern, how to read it, an example."""

    handler: Callable[..., Any]
    pattern: str
    template: str
    example: str
    table: str = ""
    """For a step that takes a table: an example table, one row per line."""


ROLE = vocab.Vocabulary("party", ("exporter", "recipient", "onward"), {
    "exporter": ("exporter", "出境方", "数据出境方", "個人信息處理者", "輸出方", "資料使用者"),
    "recipient": ("recipient", "境外接收方", "接收方", "承轉人"),
    "onward": ("onward recipient", "再接收方", "再轉移接收方"),
})
MISSING_KIND = vocab.Vocabulary("missing item", ("mechanism", "obligation", "approval"), {
    "mechanism": ("mechanism", "机制", "機制"),
    "obligation": ("obligation", "义务", "義務"),
    "approval": ("approval", "审批", "批准", "審批"),
})
DATA_KIND = vocab.Vocabulary("data kind", ("personal", "non_personal"), {
    "personal": ("personal", "personal information", "个人信息", "個人資料", "個人信息"),
    "non_personal": ("non-personal", "non-personal data", "非个人数据", "非個人資料", "非個人數據"),
})
SECTORS = {
    "银行": "banking", "銀行": "banking", "征信": "credit_reporting", "徵信": "credit_reporting",
    "信贷资料": "credit_reporting", "信貸資料": "credit_reporting", "医疗": "healthcare",
    "醫療": "healthcare", "医疗卫生": "healthcare", "醫療衞生": "healthcare", "保险": "insurance",
    "保險": "insurance", "汽车": "automotive", "汽車": "automotive", "科研": "research",
    "物流": "logistics", "电信": "telecom", "電訊": "telecom", "零售": "retail",
}
ZONES = {
    "前海": "qianhai", "河套深圳园区": "hetao_shenzhen_park", "河套深港科技创新合作区深圳园区": "hetao_shenzhen_park",
    "河套深圳園區": "hetao_shenzhen_park", "南沙": "nansha", "横琴": "hengqin", "橫琴": "hengqin",
}
TABLE_COLUMNS = {
    "kind": ("kind", "类型", "類型"),
    "subjects": ("individuals", "人数", "人數"),
    "sensitive": ("sensitive", "敏感类型", "敏感類型"),
    "classification": ("classification", "分级", "分級"),
    "tags": ("tags", "标签", "標籤"),
    "collected_outside_mainland": ("collected outside the mainland", "境外收集"),
    "population": ("population", "人群"),
    "anonymized": ("anonymised", "匿名化"),
}
YES = frozenset({"yes", "true", "是", "y"})


def _free(text: str, table: dict[str, str]) -> str:
    """A sector or zone: known Chinese words become the packs' ids; anything else, lower_snake."""
    text = text.strip()
    return table.get(text, re.sub(r"[\s\-]+", "_", text.lower()))


def _negated(flag: str | None) -> bool:
    return bool(flag and flag.strip())


# ---------------------------------------------------------------- parties
def locate(world: World, role: str, where: str, kind: str | None = None) -> None:
    jurisdiction, city = vocab.place(where)
    world.locate(ROLE(role), vocab.PARTY_KIND(kind) if kind else None, jurisdiction, city)


def onward(world: World, where: str, kind: str) -> None:
    jurisdiction, city = vocab.place(where)
    world.locate("onward", vocab.PARTY_KIND(kind), jurisdiction, city)


def ciio(world: World, role: str) -> None:
    world.set_party(ROLE(role), ciio=True)


def sector(world: World, role: str, sector: str) -> None:
    world.set_party(ROLE(role), sector=_free(sector, SECTORS))


def zone(world: World, role: str, zone: str) -> None:
    world.set_party(ROLE(role), zone=_free(zone, ZONES))


def party_id(world: World, role: str, pid: str) -> None:
    world.set_party(ROLE(role), id=pid)


def processes(world: World, n: str) -> None:
    world.set_party("exporter", processes_subjects=vocab.number(n))


# ---------------------------------------------------------------- the transfer
def purpose(world: World, purpose: str) -> None:
    world.purpose = vocab.PURPOSE(purpose)


def new_purpose(world: World) -> None:
    world.new_purpose = True


def mode(world: World, mode: str) -> None:
    world.mode = vocab.MODE(mode)


def planned(world: World, date: str, ref: str | None = None) -> None:
    world.planned_date = vocab.date(date)
    if ref:
        world.reference = ref


def reference(world: World, ref: str) -> None:
    world.reference = ref


# ---------------------------------------------------------------- data
def personal(world: World, n: str) -> None:
    world.add_data("personal", vocab.number(n))


def sensitive(world: World, n: str, types: str) -> None:
    world.add_data("personal", vocab.number(n), vocab.SENSITIVE.many(types))


def non_personal(world: World) -> None:
    world.add_data("non_personal")


def classified(world: World, cls: str) -> None:
    world.last_data()["classification"] = vocab.CLASSIFICATION(cls)


def tagged(world: World, tags: str) -> None:
    world.last_data()["tags"] = vocab.TAG.many(tags)


def collected_abroad(world: World) -> None:
    world.last_data()["collected_outside_mainland"] = True


def anonymised(world: World) -> None:
    world.last_data()["anonymized"] = True


def population(world: World, name: str) -> None:
    world.last_data()["population"] = name


def data_table(world: World, datatable: list[list[str]]) -> None:
    """Several data sets, one per row; the header names the columns in any of the three languages."""
    header, *rows = datatable
    columns = []
    for title in header:
        key = vocab.word_key(title)
        found = [col for col, names in TABLE_COLUMNS.items() if key in {vocab.word_key(n) for n in names}]
        if not found:
            known = "; ".join(" / ".join(names) for names in TABLE_COLUMNS.values())
            raise vocab.VocabularyError(f"unknown column {title!r}; known: {known}")
        columns.append(found[0])
    for row in rows:
        cells = dict(zip(columns, (cell.strip() for cell in row), strict=True))
        data: dict[str, Any] = {"kind": DATA_KIND(cells.get("kind") or "personal")}
        if cells.get("subjects"):
            data["subjects"] = vocab.number(cells["subjects"])
        if cells.get("sensitive"):
            data["sensitive"] = vocab.SENSITIVE.many(cells["sensitive"])
        if cells.get("classification"):
            data["classification"] = vocab.CLASSIFICATION(cells["classification"])
        if cells.get("tags"):
            data["tags"] = vocab.TAG.many(cells["tags"])
        for flag in ("collected_outside_mainland", "anonymized"):
            if cells.get(flag):
                data[flag] = vocab.word_key(cells[flag]) in YES
        if cells.get("population") and vocab.word_key(cells["population"]) not in vocab.NONE_WORDS:
            data["population"] = cells["population"]
        world.data.append(data)


# ---------------------------------------------------------------- safeguards
def notice(world: World) -> None:
    world.notice_given = True


def consent(world: World) -> None:
    world.separate_consent = True


def pia(world: World, date: str) -> None:
    world.pia_completed_on = vocab.date(date)


def usual(world: World) -> None:
    world.usual_safeguards()


def mechanism(world: World, mech: str, eff: str, filed: str | None = None, exp: str | None = None) -> None:
    world.add_mechanism(vocab.MECHANISM(mech), vocab.date(eff), vocab.date(filed) if filed else None,
                        vocab.date(exp) if exp else None)


def approval(world: World, kind: str, date: str) -> None:
    world.add_approval(vocab.APPROVAL(kind), vocab.date(date))


def prior_this_year(world: World, n: str, sens: str | None = None) -> None:
    world.add_prior("sensitive_subjects" if _negated(sens) else "personal_subjects", vocab.number(n))


def prior_last_year(world: World, n: str, sens: str | None = None) -> None:
    key = "previous_year_sensitive_subjects" if _negated(sens) else "previous_year_personal_subjects"
    world.add_prior(key, vocab.number(n))


def option(world: World, opt: str, value: str) -> None:
    world.options[opt.strip()] = vocab.switch(value)


# ---------------------------------------------------------------- actions
def evaluate(world: World) -> None:
    world.evaluate()


def submit(world: World) -> None:
    world.submit()


def withdraw(world: World, ref: str | None = None) -> None:
    world.withdraw(ref)


def new_transfer(world: World, ref: str | None = None, date: str | None = None) -> None:
    world.new_transfer(ref, vocab.date(date) if date else None)


# ---------------------------------------------------------------- checks
def outcome(world: World, outcome: str) -> None:
    world.check_outcome(vocab.OUTCOME(outcome))


def mechanism_level(world: World, level: str) -> None:
    world.check_mechanism(vocab.LEVEL(level))


def options_are(world: World, opts: str) -> None:
    world.check_options(vocab.MECHANISM.many(opts))


def exemptions_are(world: World, exemptions: str) -> None:
    world.check_exemptions(vocab.EXEMPTION.many(exemptions))


def no_exemption(world: World) -> None:
    world.check_exemptions([])


def cites(world: World, text: str) -> None:
    world.check_cites(text)


def says(world: World, text: str) -> None:
    world.check_says(text)


def rule_applies(world: World, rule: str, neg: str | None = None) -> None:
    world.check_rule(rule.strip(), not _negated(neg))


def missing(world: World, what: str, value: str) -> None:
    kind = MISSING_KIND(what)
    if kind == "mechanism":
        world.check_missing("mechanism", vocab.MECHANISM(value))
    elif kind == "approval":
        world.check_missing("approval", vocab.APPROVAL(value))
    else:
        world.check_missing("obligation", value.strip())


def missing_review(world: World) -> None:
    world.check_missing("review", None)


def nothing_missing(world: World) -> None:
    world.check_nothing_missing()


def met_by(world: World, mech: str) -> None:
    world.check_satisfied_by(vocab.MECHANISM(mech))


def met_by_nothing(world: World) -> None:
    world.check_satisfied_by(None)


def due(world: World, oid: str, date: str) -> None:
    world.check_due(oid.strip(), vocab.date(date))


def satisfied(world: World, oid: str, neg: str | None = None) -> None:
    world.check_satisfied(oid.strip(), not _negated(neg))


def counted(world: World, neg: str | None = None) -> None:
    world.check_counted(not _negated(neg))


def ledger_counts(world: World, year: str, personal: str, sensitive: str | None = None) -> None:
    world.check_ledger_counts(int(year), vocab.number(personal),
                              vocab.number(sensitive) if sensitive else None)


def replayed(world: World, neg: str | None = None) -> None:
    world.check_replayed(not _negated(neg))
