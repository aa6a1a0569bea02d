"""``POST /v1/transfers/{id}/amend`` (issue 22 point 7): a recorded transfer decided afresh once its
safeguards changed, recorded in place of its decision (``engine.ledger.amend``).

200 with the new decision and how the counts moved; the same amended request again records nothing
(``unchanged: true``). 422 ``not-an-amendment`` for a change of parties, data or purpose, naming each
field that differs (a new transfer: submit it under a new reference); 409 for a withdrawn transfer or
an ambiguous reference; 404 for an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.answers import Amendment
from api.http import metrics
from api.http.deps import ActorDep, LanguageDep, RequestBodyDoc, StateDep, Submitter
from api.http.encode import decision_dict, dumps
from api.http.problems import responses
from api.http.routes_evaluate import json_response
from api.http.routes_transfers import ExporterQuery, TransferId
from api.http.strictjson import StrictJsonRoute
from engine.ledger.amend import amend

router = APIRouter(tags=["transfers"], route_class=StrictJsonRoute)




@router.post("/v1/transfers/{transfer_id}/amend", response_model=Amendment,
             responses=responses(401, 403, 404, 409, 413, 415, 422, 503),
             summary="Amend a recorded transfer (its safeguards or planned date changed)")
def amend_transfer(transfer_id: TransferId, request: RequestBodyDoc, state: StateDep, _roles: Submitter,
                   lang: LanguageDep, actor: ActorDep, exporter_id: ExporterQuery = None) -> Response:
    """The body is the amended request: the recorded one with only `safeguards` (mechanisms, approvals,
    consent, notice, impact assessment) or `planned_date` changed. It is decided afresh on the exporter's
    counts without the replaced decision, recorded in the audit chain with the acting key's name and the
    `X-Reason` header, and counts as the new decision says."""
    result = amend(state.use_ledger(), state.engine, transfer_id, request, exporter_id, actor)
    if not result.unchanged:
        metrics.SUBMISSIONS.labels("amended").inc()
    body = {**{key: value for key, value in result.as_dict().items()
               if key not in ("decision_id", "reference", "outcome")},
            "decision": decision_dict(result.decision, lang)}
    headers = {"Location": f"/v1/transfers/{result.decision.decision_id}"}
    return json_response(dumps(body), lang, 200, headers)
