"""What the web page costs the API: ``POST /v1/evaluate`` and ``POST /v1/evaluate/batch`` through the
service's ASGI app with the web page installed and without it, in one process, alternating.

    .venv/bin/python -m api.bench.scripts.web_overhead [--calls 3000] [--rounds 5]

The app is called directly (no sockets, no HTTP parsing), so what differs between the two is only what
the web package adds to the app: on a machine shared with other work this isolates it far better than
two runs of ``baygate bench``. Prints microseconds a call, the median of the rounds, for each.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import api.http.app as app_module
from api.bench import ROOT
from api.http.encode import EXAMPLE_REQUEST
from api.http.settings import Settings


def build(with_web: bool, folder: Path) -> Any:
    settings = Settings.from_env({"BAYGATE_DATABASE_URL": f"sqlite:///{folder / 'ledger.db'}",
                                  "BAYGATE_RULES": str(ROOT / "rules")})
    install = getattr(app_module, "install_web")  # noqa: B009 - swapped out for the run without the page
    if not with_web:
        setattr(app_module, "install_web", lambda app: None)  # noqa: B010
    try:
        return app_module.create_app(settings)
    finally:
        setattr(app_module, "install_web", install)  # noqa: B010


async def call(app: Any, path: str, body: bytes) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def per_call_us(app: Any, path: str, body: bytes, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        status = await call(app, path, body)
        assert status == 200, status
    return (time.perf_counter() - started) / calls * 1e6


async def main(calls: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        apps = {"with the web page": build(True, Path(folder)), "without it": build(False, Path(folder))}
        single = json.dumps(EXAMPLE_REQUEST).encode()
        batch = json.dumps({"requests": [EXAMPLE_REQUEST] * 100}).encode()
        for app in apps.values():  # warm: caches, the ledger's schema check
            await per_call_us(app, "/v1/evaluate", single, 200)
            await per_call_us(app, "/v1/evaluate/batch", batch, 5)
        results: dict[tuple[str, str], list[float]] = {}
        for number in range(rounds):
            order = list(apps.items()) if number % 2 == 0 else list(reversed(apps.items()))
            for name, app in order:  # alternating which goes first
                results.setdefault((name, "evaluate"), []).append(
                    await per_call_us(app, "/v1/evaluate", single, calls))
                results.setdefault((name, "batch item"), []).append(
                    await per_call_us(app, "/v1/evaluate/batch", batch, max(1, calls // 100)) / 100)
        print(f"{'':20} {'POST /v1/evaluate us':>22} {'batch us an item':>18}   (median of {rounds} rounds)")
        for name in apps:
            print(f"{name:20} {statistics.median(results[(name, 'evaluate')]):22.1f} "
                  f"{statistics.median(results[(name, 'batch item')]):18.1f}   "
                  f"rounds: {', '.join(f'{v:.0f}' for v in results[(name, 'evaluate')])}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.rounds))
