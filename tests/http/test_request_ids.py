"""Request ids made by the service (api.http.request_context.new_request_id): unique in a process
and across forked workers, and inside the X-Request-ID alphabet the conventions accept back."""

from __future__ import annotations

import multiprocessing

from api.http.conventions import VALID_REQUEST_ID
from api.http.request_context import new_request_id


def test_ids_are_unique_and_acceptable_as_request_ids() -> None:
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(VALID_REQUEST_ID.fullmatch(value.encode("ascii")) for value in ids)


def _ids_in_child(queue: multiprocessing.Queue[list[str]]) -> None:
    queue.put([new_request_id() for _ in range(3)])


def test_a_forked_worker_does_not_repeat_its_parents_ids() -> None:
    """uvicorn forks its workers: each must draw its own prefix, or two workers' first requests would
    carry the same ids."""
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    new_request_id()
    child = context.Process(target=_ids_in_child, args=(queue,))
    child.start()
    from_child = queue.get(timeout=60)
    child.join()
    parent = [new_request_id() for _ in range(3)]
    assert len(from_child) == 3 and not set(from_child) & set(parent)
    assert {value.split("-")[0] for value in from_child}.isdisjoint({value.split("-")[0] for value in parent})
