"""Rules (issue 23 point 6): the packs in force, their rules with citations, dates and ``unsure``
notes, the pack options in force with both readings, and coverage by instrument and article."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from fastapi import APIRouter
from fastapi.responses import Response

from api.http.security import AUDITOR, RULES_ADMIN
from api.web.render import PageDep, WebRoute
from engine.coverage import coverage_rows

router = APIRouter(include_in_schema=False, route_class=WebRoute)


@router.get("/rules")
async def rules_page(page: PageDep) -> Response:
    page.need(AUDITOR, RULES_ADMIN)
    engine = page.state.engine
    pack_set = engine.pack_set
    coverage: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in coverage_rows(pack_set, {}):
        coverage[row.instrument].append((row.article, row.rule_id))
    options = [{"id": key, "decl": decl, "value": engine.options.get(key, decl.spec.default)}
               for key, decl in sorted(pack_set.options.items())]
    return page.render("rules.html", pack_set=pack_set, options=options, coverage=dict(coverage),
                       on=dt.date.today())
