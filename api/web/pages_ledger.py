"""The ledger (issue 23 point 3), a transfer's page and its printable record (point 5), withdrawal,
and an exporter's page (point 4). Reads go through the ledger's own reads (``Ledger.get``,
``Ledger.counts``, ``Ledger.list_transfers``) and the history and report reads of
``engine.ledger.chain_reads`` and ``engine.ledger.exporter_report``.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.http.security import AUDITOR, SUBMITTER
from api.web.decision_view import decision_view
from api.web.exporter_view import tally_view
from api.web.render import Page, PageDep, PageError, WebRoute
from engine.ledger import AmbiguousReference, NotFound, RecordedTransfer
from engine.ledger import exporter_report as report
from engine.ledger.actors import check_reason
from engine.ledger.chain_reads import chain_head_now, transfer_history
from engine.ledger.listing import OUTCOMES, STATUSES, BadCursor, TransferQuery
from engine.thresholds import TALLY_FACTS, thresholds_in_force

router = APIRouter(include_in_schema=False, route_class=WebRoute)
PAGE_SIZE = 50
LIST_LIMIT = 100
"""Rows of an exporter's page lists shown at most (the soonest first); the page says how many more."""

Text = Annotated[str | None, Query(max_length=128)]


def _get(page: Page, transfer_id: str, exporter: str | None = None) -> RecordedTransfer:
    try:
        return page.state.use_ledger().get(transfer_id, exporter)
    except NotFound as exc:
        raise PageError(404, str(exc)) from None
    except AmbiguousReference as exc:
        raise PageError(409, str(exc)) from None


@router.get("/transfers")
async def ledger_list(page: PageDep, exporter: Text = None, year: Text = None, outcome: Text = None,
                      status: Text = None, after: Text = None) -> Response:
    """The filter form sends every field, empty ones too: an empty or unreadable year means any year."""
    page.need(AUDITOR)
    year_number = int(year) if year and year.strip().isdigit() else None
    outcome = outcome if outcome in OUTCOMES else None
    status = status if status in STATUSES else None
    exporter = exporter.strip() if exporter and exporter.strip() else None
    query = TransferQuery(exporter_id=exporter, year=year_number, outcome=outcome,
                          status="withdrawn" if status == "withdrawn" else "recorded" if status else None,
                          limit=PAGE_SIZE, cursor=after or None)
    try:
        listing = await run_in_threadpool(page.state.use_ledger().list_transfers, query)
    except BadCursor as exc:  # an "Older" link edited by hand
        raise PageError(422, str(exc)) from None
    return page.render("ledger.html", listing=listing, filters={"exporter": exporter or "", "year": year_number or "",
                                                                "outcome": outcome or "", "status": status or ""},
                       after=after)


def _transfer_context(page: Page, transfer_id: str, exporter: str | None) -> dict[str, Any]:
    record = _get(page, transfer_id, exporter)
    decision = record.decision.model_dump(mode="json")
    history = transfer_history(page.state.use_ledger(), record.decision.decision_id)
    return {"record": record, "request": record.request.model_dump(mode="json"), "panel": decision_view(decision),
            "history": history}


def _may_read(page: Page, record: RecordedTransfer) -> None:
    """An auditor reads every transfer; a submitter the transfers its key recorded or amended (as the API
    allows)."""
    if page.viewer.may(AUDITOR):
        return
    page.need(SUBMITTER)
    if page.viewer.actor().name not in {record.recorded_by, *(old.recorded_by for old in record.replaced)}:
        raise PageError(403, "forbidden", role=AUDITOR)


@router.get("/transfers/{transfer_id}")
async def transfer_page(page: PageDep, transfer_id: str, exporter: Text = None, recorded: Text = None) -> Response:
    page.need(AUDITOR, SUBMITTER)
    context = await run_in_threadpool(_transfer_context, page, transfer_id, exporter)
    _may_read(page, context["record"])
    return page.render("transfer.html", recorded=recorded, **context)


@router.get("/transfers/{transfer_id}/record")
async def printable_record(page: PageDep, transfer_id: str, exporter: Text = None) -> Response:
    """The decision record a compliance officer attaches to a filing, with the chain's head now."""
    page.need(AUDITOR, SUBMITTER)
    context = await run_in_threadpool(_transfer_context, page, transfer_id, exporter)
    _may_read(page, context["record"])
    head = await run_in_threadpool(chain_head_now, page.state.use_ledger())
    return page.render("record.html", head=head, printed_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                       **context)


@router.get("/transfers/{transfer_id}/withdraw")
async def withdraw_confirm(page: PageDep, transfer_id: str, exporter: Text = None) -> Response:
    page.need(SUBMITTER)
    record = await run_in_threadpool(_get, page, transfer_id, exporter)
    return page.render("withdraw.html", record=record)


@router.post("/transfers/{transfer_id}/withdraw")
async def withdraw(request: Request, page: PageDep, transfer_id: str, exporter: Text = None) -> Response:
    await page.check_csrf()
    page.need(SUBMITTER)
    ledger = page.state.use_ledger()
    reason = check_reason(str((await request.form()).get("reason") or ""))  # an InputError is a 422 page
    try:
        result = await run_in_threadpool(partial(ledger.withdraw, transfer_id, exporter,
                                                 actor=page.viewer.actor(reason)))
    except NotFound as exc:
        raise PageError(404, str(exc)) from None
    except AmbiguousReference as exc:
        raise PageError(409, str(exc)) from None
    return page.redirect(f"/transfers/{result.decision_id}")


@router.get("/exporters")
async def exporters(page: PageDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                    id: Text = None) -> Response:
    page.need(AUDITOR)
    if id and id.strip():  # the "open" form
        return page.redirect(f"/exporters/{quote(id.strip(), safe='')}")
    year = year or dt.date.today().year
    rows = await run_in_threadpool(report.busiest_exporters, page.state.use_ledger(), year)
    return page.render("exporters.html", rows=rows, year=year)


def _exporter_context(page: Page, exporter_id: str, year: int) -> dict[str, Any]:
    ledger = page.state.use_ledger()
    today = dt.date.today()
    counts = ledger.counts(exporter_id, year)
    thresholds = thresholds_in_force(page.state.engine.pack_set, today)
    report.catch_up(ledger)
    curve = report.year_curve(ledger, exporter_id, year)
    tallies = [tally_view(fact, int(counts["personal_subjects" if fact == "ytd.personal_subjects"
                                         else "sensitive_subjects"]), thresholds.get(fact, []), curve, year)
               for fact in TALLY_FACTS]
    due, due_total = report.obligations_due(ledger, exporter_id, today, limit=LIST_LIMIT)
    expiring, expiring_total = report.mechanisms_expiring(ledger, exporter_id, today, limit=LIST_LIMIT)
    return {"exporter_id": exporter_id, "year": year, "tallies": tallies, "due": due,
            "due_total": due_total, "expiring": expiring, "expiring_total": expiring_total}


@router.get("/exporters/{exporter_id}")
async def exporter_page(page: PageDep, exporter_id: str,
                        year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    page.need(AUDITOR)
    context = await run_in_threadpool(_exporter_context, page, exporter_id, year or dt.date.today().year)
    return page.render("exporter.html", **context)
