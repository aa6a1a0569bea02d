"""Screen an inventory (issue 23 point 2): upload a CSV of planned flows, see each one's outcome,
download the results as CSV. Dry runs only: nothing is recorded (the submitter role, as for
``POST /v1/evaluate/batch``)."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.http.security import SUBMITTER
from api.web.inventory import COLUMNS, InventoryError, Row, read_inventory, results_csv, template_csv
from api.web.render import Page, PageDep, WebRoute
from engine.errors import BaygateError

router = APIRouter(include_in_schema=False, route_class=WebRoute)
MAX_UPLOAD = 2 * 1024 * 1024


@router.get("/screen")
async def screen_page(page: PageDep) -> Response:
    page.need(SUBMITTER)
    return page.render("screen.html", columns=COLUMNS, rows=None, problem=None, source=None)


@router.get("/screen/template.csv")
async def template(page: PageDep) -> Response:
    return page.finish(Response(template_csv().encode("utf-8"), media_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": 'attachment; filename="baygate-inventory.csv"'}))


def _screen(page: Page, text: str) -> list[Row]:
    state = page.state
    ledger = state.use_ledger()
    rows: list[Row] = []
    cache: dict[tuple[str, int], object] = {}
    for row in read_inventory(text):
        if row.request is None:
            rows.append(row)
            continue
        key = (row.request.exporter.id, row.request.planned_date.year)
        if key not in cache:  # counts do not change within a screening: one read per exporter and year
            cache[key] = ledger.prior_counts(row.request)
        decision = state.engine.evaluate(row.request, cache[key])  # type: ignore[arg-type]
        rows.append(dataclasses.replace(row, decision=decision))
    return rows


async def _uploaded_text(request: Request, page: Page) -> tuple[str | None, str | None, str | None]:
    """(text, file name, problem) from the upload field, or from the re-posted text of a screening."""
    form = await request.form()
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_UPLOAD + 1)
        name = upload.filename or "inventory.csv"
        if len(raw) > MAX_UPLOAD:
            return None, name, page.t("%(name)s is larger than 2 MB", name=name)
        try:
            return raw.decode("utf-8-sig"), name, None
        except UnicodeDecodeError:
            return None, name, page.t("%(name)s is not UTF-8 text: save it as CSV UTF-8", name=name)
    text = form.get("text")
    if isinstance(text, str) and text:
        return text, str(form.get("source") or "inventory.csv"), None
    return None, None, page.t("Choose a CSV file to screen.")


@router.post("/screen")
async def screen(request: Request, page: PageDep) -> Response:
    await page.check_csrf()
    page.need(SUBMITTER)
    text, name, problem = await _uploaded_text(request, page)
    rows = None
    if text is not None:
        try:
            rows = await run_in_threadpool(_screen, page, text)
        except (InventoryError, BaygateError) as exc:
            problem = f"{name}: {exc}"
    return page.render("screen.html", status=422 if problem else 200, columns=COLUMNS, rows=rows,
                       problem=problem, source=name, text=text if rows is not None else None)


@router.post("/screen/results.csv")
async def results(request: Request, page: PageDep) -> Response:
    await page.check_csrf()
    page.need(SUBMITTER)
    text, name, problem = await _uploaded_text(request, page)
    if text is None:
        return page.render("screen.html", status=422, columns=COLUMNS, rows=None, problem=problem, source=name)
    try:
        rows = await run_in_threadpool(_screen, page, text)
    except (InventoryError, BaygateError) as exc:
        return page.render("screen.html", status=422, columns=COLUMNS, rows=None, problem=f"{name}: {exc}",
                           source=name)
    return page.finish(Response(results_csv(rows).encode("utf-8"), media_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition": 'attachment; filename="baygate-screening.csv"'}))
