"""Assess a transfer (issue 23 point 1): the guided form, its live decision, download, load, record.

The decision panel is a dry run on every change of the form (htmx posts the form to
``/assess/decide`` and swaps the panel): the same engine and the same ledger counts as
``POST /v1/evaluate``, nothing recorded. Recording goes through ``Ledger.submit`` as
``POST /v1/transfers`` does, for the submitter role only.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from ruamel.yaml import YAML
from starlette.datastructures import UploadFile

from api.http.security import SUBMITTER
from api.web.decision_view import decision_view
from api.web.forms import EMPTY_REQUEST, form_values, request_dict, validate
from api.web.render import PageDep, PageError, WebRoute
from engine.errors import BaygateError
from engine.facts import in_gba_mainland
from engine.inputs import parse_document
from engine.ledger.actors import check_reason
from engine.models import Party, TransferRequest

router = APIRouter(include_in_schema=False, route_class=WebRoute)
MAX_UPLOAD = 1024 * 1024


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def _gba_notes(data: dict[str, Any]) -> dict[str, bool | None]:
    """Whether each party is in one of the nine Mainland GBA cities, as the engine decides it."""
    notes: dict[str, bool | None] = {}
    for role in ("exporter", "recipient"):
        party = data.get(role)
        try:
            notes[role] = in_gba_mainland(Party.model_validate(party)) if isinstance(party, dict) else None
        except ValueError:
            notes[role] = None
    return notes


def _decide(page: Any, request: TransferRequest) -> dict[str, Any]:
    state = page.state
    ledger = state.use_ledger()
    decision = state.engine.evaluate(request, ledger.prior_counts(request))
    result: dict[str, Any] = decision.model_dump(mode="json")
    return result


@router.get("/")
async def assess_page(page: PageDep) -> Response:
    if page.viewer.keys_configured and not page.viewer.signed_in:
        return page.redirect("/signin")
    return page.render("assess.html", values=form_values(EMPTY_REQUEST), errors={}, panel=None, gba={})


@router.post("/assess/decide")
async def decide_panel(request: Request, page: PageDep) -> Response:
    """The decision panel for the form as it stands (htmx; a dry run)."""
    await page.check_csrf()
    page.need(SUBMITTER)
    data = request_dict(await _form_pairs(request))
    transfer, errors = validate(data)
    panel = None
    problem = None
    if transfer is not None:
        try:
            panel = decision_view(await run_in_threadpool(_decide, page, transfer))
        except BaygateError as exc:
            problem = str(exc)
    return page.render("_decision.html", panel=panel, errors=errors, problem=problem, gba=_gba_notes(data))


@router.post("/assess/record")
async def record(request: Request, page: PageDep) -> Response:
    await page.check_csrf()
    page.need(SUBMITTER)
    data = request_dict(await _form_pairs(request))
    transfer, errors = validate(data)
    if transfer is None:
        return page.render("assess.html", status=422, values=form_values(data), errors=errors, panel=None,
                           gba=_gba_notes(data))
    ledger = page.state.use_ledger()
    try:
        reason = check_reason(str((await request.form()).get("record_reason") or ""), "record_reason")
        actor = page.viewer.actor(reason)
        result = await run_in_threadpool(partial(ledger.submit, page.state.engine, transfer, actor=actor))
    except BaygateError as exc:
        status = int(getattr(exc, "http_status", 0) or 422)
        return page.render("assess.html", status=status, values=form_values(data), errors={"(request)": str(exc)},
                           panel=None, gba=_gba_notes(data))
    # The recorder may read what it recorded (an auditor reads everything): the transfer's page.
    decision_id = result.decision.decision_id
    return page.redirect(f"/transfers/{decision_id}?recorded={'again' if result.replayed else 'new'}")


@router.post("/assess/download")
async def download(request: Request, page: PageDep, format: str = "yaml") -> Response:
    """The request as typed, as a file: the full request when it validates, else what there is."""
    await page.check_csrf()
    data = request_dict(await _form_pairs(request))
    transfer, _errors = validate(data)
    body: Any = transfer.model_dump(mode="json", exclude_defaults=True) if transfer else data
    if transfer is not None:
        body = {"reference": transfer.reference, **body}
    name = str(data.get("reference") or "transfer").replace("/", "_").replace('"', "")[:80]
    if format == "json":
        content = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
        media, suffix = "application/json", "json"
    else:
        content = _yaml_text(body)
        media, suffix = "application/yaml", "yaml"
    return page.finish(Response(content.encode("utf-8"), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{suffix}"'}))


def _yaml_text(body: Any) -> str:
    import io

    yaml = YAML()
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(body, out)
    return out.getvalue()


@router.post("/assess/load")
async def load(request: Request, page: PageDep) -> Response:
    """A request file (YAML or JSON, one request) back into the form."""
    await page.check_csrf()
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise PageError(422, "no-file")
    raw = await upload.read(MAX_UPLOAD + 1)
    name = upload.filename or "upload"
    errors: dict[str, str] = {}
    data: dict[str, Any] = dict(EMPTY_REQUEST)
    if len(raw) > MAX_UPLOAD:
        errors["(file)"] = page.t("%(name)s is larger than 1 MB", name=name)
    else:
        try:  # dates as the form shows them (YAML reads them as dates)
            parsed = json.loads(json.dumps(parse_document(raw, name), default=str))
        except BaygateError as exc:
            errors["(file)"] = str(exc)
        else:
            if isinstance(parsed, list):
                if len(parsed) == 1 and isinstance(parsed[0], dict):
                    parsed = parsed[0]
                else:
                    errors["(file)"] = page.t("%(name)s holds several requests: load one at a time", name=name)
            if isinstance(parsed, dict):
                data = parsed
                _transfer, errors = validate(data)
            elif not errors:
                errors["(file)"] = page.t("%(name)s does not hold a request", name=name)
    return page.render("assess.html", values=form_values(data), errors=errors, panel=None, gba=_gba_notes(data),
                       loaded=name)
