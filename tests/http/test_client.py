"""The typed client (api/client.py) against a real server: its models agree with the served OpenAPI
field by field, every call round-trips, and errors arrive as problems."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from api import client as api_client
from api.client import ApiError, BaygateClient
from engine.models import Decision, TransferRequest
from tests.http.conftest import KEYS, Server, make_request

CLIENT_MODELS: dict[str, type[BaseModel]] = {
    "TransferRecord": api_client.TransferRecord, "TransferSummary": api_client.TransferSummary,
    "TransferList": api_client.TransferList, "Withdrawal": api_client.Withdrawal,
    "Amendment": api_client.Amendment, "ReplacedDecision": api_client.ReplacedDecision,
    "ExporterCounts": api_client.ExporterCounts, "AuditReport": api_client.AuditReport,
    "PackInfo": api_client.PackInfo, "RulesView": api_client.RulesView, "Problem": api_client.Problem,
    "Decision": Decision,
}


@pytest.fixture
def auditor(server: Server) -> Any:
    with BaygateClient(server.url, KEYS["auditor"]) as connected:
        yield connected


@pytest.fixture
def submitter(server: Server) -> Any:
    with BaygateClient(server.url, KEYS["submitter"]) as connected:
        yield connected


def test_the_client_models_follow_the_openapi(server: Server) -> None:
    schemas = httpx.get(f"{server.url}/openapi.json").json()["components"]["schemas"]
    for name, model in CLIENT_MODELS.items():
        served = schemas[name]
        fields = {info.alias or field for field, info in model.model_fields.items()}
        assert fields <= set(served["properties"]), (name, fields - set(served["properties"]))
        assert set(served.get("required", [])) <= fields, (name, set(served.get("required", [])) - fields)


def test_submit_read_list_log_withdraw(submitter: BaygateClient, auditor: BaygateClient) -> None:
    body = make_request()
    exporter = body["exporter"]["id"]
    first = submitter.submit(TransferRequest.model_validate(body), idempotency_key=body["reference"])
    assert (first.replayed, first.decision.outcome) == (False, "permitted")
    assert first.decision.satisfied_by is not None and first.decision.satisfied_by.reference == "GD-2026-123"
    again = submitter.submit(body)
    assert again.replayed and again.decision.decision_id == first.decision.decision_id
    assert first.location == f"/v1/transfers/{first.decision.decision_id}"

    record = auditor.get_transfer(body["reference"], exporter_id=exporter)
    assert record.decision.decision_id == first.decision.decision_id and not record.withdrawn
    listed = list(auditor.iter_transfers(exporter_id=exporter, page_size=1))
    assert [item.reference for item in listed] == [body["reference"]]
    logged = [entry for entry in auditor.iter_decisions(max(0, record.event_seq - 1), page_size=2)
              if entry.exporter_id == exporter]
    assert [entry.decision.reference for entry in logged] == [body["reference"]]
    assert auditor.counts(exporter, year=2026).personal_subjects == 150_000

    withdrawal = submitter.withdraw(body["reference"], exporter_id=exporter)
    assert withdrawal.released_personal_subjects == 150_000
    assert auditor.list_transfers(exporter_id=exporter, status="withdrawn").items[0].status == "withdrawn"
    assert auditor.audit_verify().ok


def test_dry_runs_and_the_rules(submitter: BaygateClient, auditor: BaygateClient) -> None:
    decision = submitter.evaluate(make_request(safeguards={}))
    assert decision.outcome == "conditional" and decision.missing[0].kind == "mechanism"
    both = submitter.evaluate_batch([make_request(), make_request(safeguards={})])
    assert [result.outcome for result in both if isinstance(result, Decision)] == ["permitted", "conditional"]
    assert auditor.rules().digest == decision.rules.digest
    assert auditor.ready()


def test_errors_arrive_as_problems(server: Server, submitter: BaygateClient) -> None:
    body = make_request()
    with pytest.raises(ApiError) as mismatch:
        submitter.submit(body, idempotency_key="another")
    assert mismatch.value.status == 422
    assert mismatch.value.problem_type == "urn:baygate:problem:idempotency-key-mismatch"
    assert mismatch.value.request_id
    with pytest.raises(ApiError) as forbidden:
        submitter.list_transfers()
    assert forbidden.value.status == 403
    with BaygateClient(server.url, "not-a-key-" + "x" * 20, language="zh-HK") as stranger, \
            pytest.raises(ApiError) as unknown:
        stranger.rules()
    assert unknown.value.status == 401 and unknown.value.problem is not None
    assert unknown.value.problem.title == "需要API密鑰"


def test_a_bad_request_fails_before_it_is_sent(submitter: BaygateClient) -> None:
    with pytest.raises(ValueError, match="purpose"):
        submitter.evaluate({**make_request(), "purpose": "whatever"})


def test_amend_read_history_and_refusals(submitter: BaygateClient, auditor: BaygateClient) -> None:
    """POST /v1/transfers/{id}/amend end to end: a conditional transfer amended to permitted counts from
    then, the transfer reads its latest decision with the history beside it, the decision log keeps both,
    and what is not an amendment is refused (422), as is amending a withdrawn transfer (409)."""
    body = make_request(safeguards={})
    exporter = body["exporter"]["id"]
    first = submitter.submit(body).decision
    assert first.outcome == "conditional" and auditor.counts(exporter, year=2026).personal_subjects == 0
    amended_body = {**body, "safeguards": make_request()["safeguards"]}
    amended = submitter.amend(body["reference"], amended_body, exporter_id=exporter, reason="contract filed 合同")
    assert (amended.replaces, amended.decision.outcome, amended.unchanged) == (first.decision_id, "permitted", False)
    assert auditor.counts(exporter, year=2026).personal_subjects == amended.counted_personal_subjects == 150_000
    assert submitter.amend(first.decision_id, amended_body).unchanged  # a retry records nothing

    record = submitter.get_transfer(first.decision_id)  # the submitter reads what it recorded, by any version's id
    assert record.decision.decision_id == amended.decision.decision_id and record.replaces == first.decision_id
    assert record.reason == "contract filed 合同"
    assert [(old.decision_id, old.outcome, old.replaced_by) for old in record.history] == [
        (first.decision_id, "conditional", amended.decision.decision_id)]
    logged = {entry.decision.decision_id: entry for entry in auditor.iter_decisions(record.history[0].event_seq - 1)
              if entry.exporter_id == exporter}
    assert logged[first.decision_id].replaced_by == amended.decision.decision_id
    assert logged[amended.decision.decision_id].replaced_by is None

    with pytest.raises(ApiError) as refused:
        submitter.amend(body["reference"], {**amended_body, "purpose": "direct_marketing"})
    assert refused.value.status == 422 and refused.value.problem_type == "urn:baygate:problem:not-an-amendment"
    assert refused.value.problem is not None and [e.path for e in refused.value.problem.errors or []] == ["purpose"]
    submitter.withdraw(body["reference"], exporter_id=exporter)
    with pytest.raises(ApiError) as withdrawn:
        submitter.amend(body["reference"], amended_body)
    assert withdrawn.value.status == 409
    assert auditor.audit_verify().ok
