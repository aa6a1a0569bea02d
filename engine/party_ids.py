"""Mainland organisations' ids checked as unified social credit codes (issue 19 point 4).

Party ids are put in one canonical form by the request model (``engine.strict.PartyId``: NFKC,
trimmed, upper-cased, invisible characters refused), so the same id written twice counts as one
exporter. A Mainland organisation is identified by its unified social credit code (统一社会信用代码,
GB 32100-2015): 18 characters of the alphabet ``0-9 A-H J-N P-R T U W-Y`` (no I, O, S, V, Z), the
last a check character computed from the other 17 (:func:`is_uscc`). An id that is not one is
probably mistyped (or another register's number), and a mistyped id counts as another exporter: the
decision carries the warning reason ``engine.id-unverified`` (:func:`unverified_notes`), and with
``BAYGATE_STRICT_IDS=1`` the request model refuses it, naming the field (``engine.models.Party``). It is not
refused by default: test data and some bodies' codes are not well formed, and refusing them would
refuse a legal answer. Individuals' ids (any stable identifier) and other jurisdictions' (a Hong
Kong business registration number: 8 digits) are not held to it.
"""

from __future__ import annotations

import functools

from engine.models import Reason, TransferRequest
from engine.texts import msg
from engine.uscc import held_to_uscc, is_uscc

UNVERIFIED_RULE = "engine.id-unverified"
UNVERIFIED_CITATION = ("GB 32100-2015 (统一社会信用代码编码规则) arts. 4-5; baygate engine policy: one exporter, "
                       "one identity")


def unverified_notes(request: TransferRequest) -> tuple[Reason, ...]:
    """The warning reasons for each Mainland organisation in the request whose id is not a well-formed
    unified social credit code (with ``BAYGATE_STRICT_IDS=1`` the request model refuses them instead:
    ``engine.models.Party``); usually none. On every decision's path: one cached lookup a party, and
    one for the notes of the ids flagged."""
    exporter, recipient = request.exporter, request.recipient
    flagged: tuple[tuple[str, str], ...] = ()
    if _unverified(exporter.jurisdiction, exporter.kind, exporter.id):
        flagged = (("exporter.id", exporter.id),)
    if _unverified(recipient.jurisdiction, recipient.kind, recipient.id):
        flagged += (("recipient.id", recipient.id),)
    for index, party in enumerate(request.onward_recipients):
        if _unverified(party.jurisdiction, party.kind, party.id):
            flagged += ((f"onward_recipients[{index}].id", party.id),)
    return _notes(flagged) if flagged else ()


@functools.lru_cache(maxsize=4096)
def _unverified(jurisdiction: str, kind: str, code: str) -> bool:
    """One lookup a party on the per-decision path (ids repeat: an exporter sends many transfers)."""
    return held_to_uscc(jurisdiction, kind) and not is_uscc(code)


@functools.lru_cache(maxsize=1024)
def unverified_reason(path: str, code: str) -> Reason:
    """The warning a decision carries for a Mainland organisation's id that is not a well-formed code."""
    return Reason(
        rule=UNVERIFIED_RULE, effect="note", citation=UNVERIFIED_CITATION,
        message=msg(
            f"{path} {code!r} is not a well-formed unified social credit code (18 characters, the last a check "
            "character): the ledger counts this organisation's transfers under this id exactly, so a mistyped "
            "id counts as another exporter. Check the code against the business licence.",
            f"{path}「{code}」不是格式正确的统一社会信用代码（18位，末位为校验码）：台账按此编号统计该组织的传输，"
            "输错的编号会被计为另一出口方。请对照营业执照核对。",
            f"{path}「{code}」不是格式正確的統一社會信用代碼（18位，末位為校驗碼）：台賬按此編號統計該組織的傳輸，"
            "輸錯的編號會被計為另一出口方。請對照營業執照核對。"),
        facts={path: code})


@functools.lru_cache(maxsize=1024)
def _notes(flagged: tuple[tuple[str, str], ...]) -> tuple[Reason, ...]:
    return tuple(unverified_reason(path, code) for path, code in flagged)
