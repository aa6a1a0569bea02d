"""The decision log for SIEMs and archives: ``GET /v1/decisions?after=SEQ`` (DESIGN section 6).

Recorded decisions only (a dry run is not logged), one JSON object a line (NDJSON), oldest first by
their position in the audit chain. A collector keeps the last ``seq`` it stored and asks again with
``after=`` that number: positions are never reused, so nothing is read twice or skipped, even while
transfers are being recorded. A full page says where the next one starts in a ``Link`` header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.http.deps import Auditor, StateDep
from api.http.problems import responses
from engine.ledger.listing import MAX_PAGE

router = APIRouter(tags=["transfers"])

NDJSON = "application/x-ndjson"
LINE_EXAMPLE = ('{"seq":42,"exporter_id":"91440300MA5XXXXXXX","recorded_at":"2026-11-24T08:00:00Z",'
                '"decision":{"decision_id":"01JD...","reference":"SZH-2026-0042","outcome":"permitted", "...": "..."}}')


@router.get("/v1/decisions", responses={
    200: {"description": "Recorded decisions after `after`, oldest first, one JSON object a line: `seq` (the "
          "position in the audit chain), `exporter_id`, `recorded_at` and `decision` (as `POST /v1/transfers` "
          "answers it). An empty body: nothing recorded after `after` yet.",
          "content": {NDJSON: {"schema": {"type": "string"}, "example": LINE_EXAMPLE}}},
    **responses(401, 403, 422, 503)})
def decision_log(
    state: StateDep, _roles: Auditor,
    after: Annotated[int, Query(ge=0, description="The last `seq` already read (0: from the start).")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Decisions per page.")] = 500,
) -> Response:
    """The log of recorded decisions by chain position, as NDJSON (page with `after`)."""
    page = state.use_ledger().decisions_after(after, limit)
    body = "".join(entry.as_json() + "\n" for entry in page).encode()
    headers = {}
    if len(page) == limit:
        headers["Link"] = f'</v1/decisions?after={page[-1].seq}&limit={limit}>; rel="next"'
    return Response(body, media_type=NDJSON, headers=headers)
