"""A typed Python client for the baygate HTTP API, written against its OpenAPI (``/openapi.json``).

    from api.client import BaygateClient

    with BaygateClient("https://baygate.example", api_key=KEY, language="zh-HK") as client:
        decision = client.evaluate(request)            # engine.models.Decision
        recorded = client.submit(request)              # .decision, .replayed, .location
        for item in client.iter_transfers(exporter_id="91440300MA5XXXXXXX", outcome="conditional"):
            ...

Requests and decisions are the engine's own models (``engine.models``), so a client validates a
request before sending it, exactly as the service will. The other answers are the service's own
response models (``api.answers``, re-exported here), so the two cannot drift; ``tests/http/test_client.py``
still compares them with the served OpenAPI field by field. Every error answer
is raised as :class:`ApiError` carrying the RFC 9457 problem (``type``, ``title``, ``detail``, field
``errors``), so a caller switches on ``error.problem_type`` rather than on text.

The client needs only httpx and the engine's models: no FastAPI, no database, no durable-rules.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from api.answers import (
    Amendment,
    Answer,
    AuditReport,
    ExporterCounts,
    FieldError,
    PackInfo,
    Problem,
    ReplacedDecision,
    RulesView,
    Status,
    TransferList,
    TransferRecord,
    TransferSummary,
    Withdrawal,
)
from engine.models import Decision, Outcome, TransferRequest

__all__ = ["Amendment", "ApiError", "AuditReport", "BaygateClient", "ExporterCounts", "FieldError", "LoggedDecision",
           "PackInfo", "Problem", "ReplacedDecision", "RulesView", "Submission", "TransferList", "TransferRecord",
           "TransferSummary", "Withdrawal"]


class ApiError(Exception):
    """An error answer: its HTTP status and problem details (``problem_type`` is the stable URN)."""

    def __init__(self, status: int, problem: Problem | None, text: str, request_id: str | None) -> None:
        self.status = status
        self.problem = problem
        self.request_id = request_id
        what = f"{problem.title}: {problem.detail}" if problem and problem.detail else (
            problem.title if problem else text[:300])
        super().__init__(f"HTTP {status}: {what}" + (f" (request {request_id})" if request_id else ""))

    @property
    def problem_type(self) -> str | None:
        return self.problem.type if self.problem else None


class LoggedDecision(Answer):
    """One line of the decision log: its chain position, the exporter, when, and the decision."""

    seq: int
    exporter_id: str
    recorded_at: str
    decision: Decision
    replaced_by: str | None = None
    """Set when an amendment replaced this decision since (the amendment has its own line, later)."""


@dataclass(frozen=True)
class Submission:
    """The answer to ``submit``: the decision, whether it was recorded before (an idempotent replay),
    and where the recorded transfer can be read."""

    decision: Decision
    replayed: bool
    location: str | None
    request_id: str | None


RequestLike = TransferRequest | Mapping[str, Any]


def _request_json(request: RequestLike) -> bytes:
    """A request as the service takes it, validated here first (a bad request fails before sending)."""
    model = request if isinstance(request, TransferRequest) else TransferRequest.model_validate(dict(request))
    return model.model_dump_json().encode()


def _reason(reason: str | None) -> dict[str, str | bytes]:
    """The ``X-Reason`` header recorded with a write in the audit chain (none when not given), in UTF-8
    as the service reads it (a reason may be Chinese)."""
    return {"X-Reason": reason.encode("utf-8")} if reason else {}


class BaygateClient:
    """One connection pool to one service; use it as a context manager, or call :meth:`close`."""

    def __init__(self, base_url: str, api_key: str | None = None, *, language: str | None = None,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if language:
            headers["Accept-Language"] = language
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> BaygateClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, path: str, *, body: bytes | None = None, params: Mapping[str, Any] | None = None,
              headers: Mapping[str, str | bytes] | None = None) -> httpx.Response:
        sent: dict[str, str | bytes] = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/json"
        query = {key: value for key, value in (params or {}).items() if value is not None}
        raw = [(name.encode("ascii"), value if isinstance(value, bytes) else value.encode("ascii"))
               for name, value in sent.items()]
        answer = self._http.request(method, path, content=body, params=query, headers=raw)
        if answer.status_code >= 400:
            problem = None
            if answer.headers.get("content-type", "").startswith("application/problem+json"):
                try:
                    problem = Problem.model_validate(answer.json())
                except (ValueError, json.JSONDecodeError):
                    problem = None
            raise ApiError(answer.status_code, problem, answer.text, answer.headers.get("x-request-id"))
        return answer

    # ------------------------------------------------------------------ deciding

    def evaluate(self, request: RequestLike, *, as_of: dt.date | None = None) -> Decision:
        """A dry run: the decision, nothing recorded (``POST /v1/evaluate``)."""
        answer = self._send("POST", "/v1/evaluate", body=_request_json(request),
                            params={"as_of": as_of.isoformat() if as_of else None})
        return Decision.model_validate_json(answer.content)

    def evaluate_batch(self, requests: list[RequestLike], *, as_of: dt.date | None = None
                       ) -> list[Decision | Problem]:
        """Many dry runs at once: one decision, or a problem for a bad item, per request, in order."""
        items = [json.loads(_request_json(request)) for request in requests]
        answer = self._send("POST", "/v1/evaluate/batch", body=json.dumps({"requests": items}).encode(),
                            params={"as_of": as_of.isoformat() if as_of else None})
        results: list[Decision | Problem] = []
        for result in answer.json()["results"]:
            results.append(Problem.model_validate(result) if "type" in result and "status" in result
                           else Decision.model_validate(result))
        return results

    def submit(self, request: RequestLike, *, idempotency_key: str | None = None,
               reason: str | None = None) -> Submission:
        """Decide and record (``POST /v1/transfers``); the same request again answers the recorded
        decision (``replayed``). An ``idempotency_key``, if given, must equal the request's reference;
        a ``reason`` is recorded with it in the audit chain (``X-Reason``)."""
        headers = _reason(reason)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        answer = self._send("POST", "/v1/transfers", body=_request_json(request), headers=headers)
        return Submission(Decision.model_validate_json(answer.content),
                          answer.headers.get("idempotent-replayed") == "true", answer.headers.get("location"),
                          answer.headers.get("x-request-id"))

    def withdraw(self, transfer_id: str, *, exporter_id: str | None = None, reason: str | None = None) -> Withdrawal:
        answer = self._send("POST", f"/v1/transfers/{_segment(transfer_id)}/withdraw",
                            params={"exporter_id": exporter_id}, headers=_reason(reason))
        return Withdrawal.model_validate_json(answer.content)

    def amend(self, transfer_id: str, request: RequestLike, *, exporter_id: str | None = None,
              reason: str | None = None) -> Amendment:
        """Decide a recorded transfer afresh with changed safeguards or planned date, in place of its
        decision (``POST /v1/transfers/{id}/amend``); a change of parties, data or purpose is refused
        (422 ``not-an-amendment``), a withdrawn transfer too (409)."""
        answer = self._send("POST", f"/v1/transfers/{_segment(transfer_id)}/amend", body=_request_json(request),
                            params={"exporter_id": exporter_id}, headers=_reason(reason))
        return Amendment.model_validate_json(answer.content)

    # ------------------------------------------------------------------ reading the ledger

    def get_transfer(self, transfer_id: str, *, exporter_id: str | None = None) -> TransferRecord:
        """A recorded transfer by decision id or reference."""
        answer = self._send("GET", f"/v1/transfers/{_segment(transfer_id)}", params={"exporter_id": exporter_id})
        return TransferRecord.model_validate_json(answer.content)

    def list_transfers(self, *, exporter_id: str | None = None, year: int | None = None,
                       outcome: Outcome | None = None, status: Status | None = None, limit: int = 50,
                       cursor: str | None = None) -> TransferList:
        """One page of recorded transfers, newest first; pass ``next_cursor`` back for the next."""
        answer = self._send("GET", "/v1/transfers", params={
            "exporter_id": exporter_id, "year": year, "outcome": outcome, "status": status, "limit": limit,
            "cursor": cursor})
        return TransferList.model_validate_json(answer.content)

    def iter_transfers(self, *, exporter_id: str | None = None, year: int | None = None,
                       outcome: Outcome | None = None, status: Status | None = None,
                       page_size: int = 200) -> Iterator[TransferSummary]:
        """Every recorded transfer matching the filters, newest first, page by page."""
        cursor = None
        while True:
            page = self.list_transfers(exporter_id=exporter_id, year=year, outcome=outcome, status=status,
                                       limit=page_size, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def decisions(self, after: int = 0, *, limit: int = 500) -> list[LoggedDecision]:
        """One page of the decision log: recorded decisions after chain position ``after``."""
        answer = self._send("GET", "/v1/decisions", params={"after": after, "limit": limit})
        return [LoggedDecision.model_validate_json(line) for line in answer.content.splitlines() if line.strip()]

    def iter_decisions(self, after: int = 0, *, page_size: int = 500) -> Iterator[LoggedDecision]:
        """Every recorded decision after ``after``, oldest first (keep the last ``seq`` to resume)."""
        while True:
            page = self.decisions(after, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].seq

    def counts(self, exporter_id: str, *, year: int | None = None) -> ExporterCounts:
        answer = self._send("GET", f"/v1/exporters/{_segment(exporter_id)}/counts", params={"year": year})
        return ExporterCounts.model_validate_json(answer.content)

    def audit_verify(self) -> AuditReport:
        return AuditReport.model_validate_json(self._send("GET", "/v1/audit/verify").content)

    # ------------------------------------------------------------------ rules, health

    def rules(self) -> RulesView:
        return RulesView.model_validate_json(self._send("GET", "/v1/rules").content)

    def ready(self) -> bool:
        """Whether the service can decide now (``/readyz``): packs loaded, database reachable."""
        try:
            self._send("GET", "/readyz")
        except ApiError:
            return False
        return True


def _segment(value: str) -> str:
    """A path segment: an id or a reference may hold characters a URL path gives meaning to."""
    from urllib.parse import quote

    return quote(value, safe="")
