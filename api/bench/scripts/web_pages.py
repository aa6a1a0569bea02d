"""Server time of each page of the web interface (issue 23), p50 over repeated requests, on a ledger of
100,000 recorded transfers.

    .venv/bin/python -m api.bench.scripts.web_pages [--transfers 100000] [--db /tmp/web-bench.db] [--repeat 30]

The ledger is built once through ``Ledger.submit`` from 8 threads (about 100-200 s for 10^5 on this
machine) and kept at ``--db`` for the next run. 50 exporters; the busiest holds a fifth of the
transfers; a tenth carry a GBA standard contract that took effect in the last days (a filing due in the
next 30 days) and expires within 90 days. Pages are requested through the service's own ASGI app in
this process (no keys: loopback), so the figures are the server's time without the network: the
routing, the ledger's reads, the templates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from api.bench import ROOT
from engine.evaluator import Engine
from engine.ledger import Ledger
from engine.models import TransferRequest
from engine.rulespec import load_pack_set

EXPORTERS = 50
BUSIEST = "91440300MA5WEB0000"


def exporter_of(number: int) -> str:
    return BUSIEST if number % 5 == 0 else f"91440300MA5WEB{number % EXPORTERS:04d}"


def request(number: int, today: dt.date) -> TransferRequest:
    planned = today + dt.timedelta(days=(number % 20))
    data: dict[str, Any] = {"kind": "personal", "subjects": 1 + number % 5}
    if number % 7 == 0:
        data["sensitive"] = ["medical_health"]
    safeguards: dict[str, Any] = {"separate_consent": True, "notice_given": True,
                                  "pia_completed_on": (today - dt.timedelta(days=60)).isoformat()}
    if number % 10 == 0:
        safeguards["mechanisms"] = [{
            "type": "gba_standard_contract", "reference": f"GD-{number % 97}",
            "effective_on": (today - dt.timedelta(days=number % 5)).isoformat(),
            "expires_on": (today + dt.timedelta(days=30 + number % 60)).isoformat()}]
    return TransferRequest.model_validate({
        "reference": f"WEB-{number:07d}",
        "exporter": {"id": exporter_of(number), "name": "Bench Co.", "jurisdiction": "CN", "city": "Shenzhen"},
        "recipient": {"id": "32345678", "name": "Harbour Ltd", "jurisdiction": "HK"},
        "purpose": "business_services", "planned_date": planned.isoformat(), "data": [data],
        "safeguards": safeguards})


def build(url: str, transfers: int) -> None:
    engine = Engine(load_pack_set(ROOT / "rules"))
    ledger = Ledger(url, rules_dirs=[ROOT / "rules"])
    today = dt.date.today()
    start = time.perf_counter()
    numbers = iter(range(transfers))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            ledger.submit(engine, request(number, today))
            if number % 10_000 == 0:
                print(f"  {number:,} recorded ({time.perf_counter() - start:.0f} s)", flush=True)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.close()
    print(f"built {transfers:,} transfers in {time.perf_counter() - start:.0f} s", flush=True)


def p50_ms(call: Any, repeat: int) -> tuple[float, float]:
    call()  # warm: compiled templates, caches, the catalog
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code < 400, (response.status_code, response.text[:500])
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--db", default="/tmp/baygate-web-bench.db")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    if not Path(args.db).exists():
        print(f"building a ledger of {args.transfers:,} transfers at {args.db} ...", flush=True)
        build(url, args.transfers)

    import os

    from fastapi.testclient import TestClient

    from api.http.app import create_app
    from api.http.settings import Settings

    os.environ.setdefault("BAYGATE_SESSION_SECRET", "bench-" + "s" * 40)
    settings = Settings.from_env({"BAYGATE_DATABASE_URL": url, "BAYGATE_RULES": str(ROOT / "rules")})
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        import re

        home = client.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
        count = client.get(f"/transfers?exporter={BUSIEST}")
        some_id = re.search(r'data-decision="([0-9A-Z]{26})"', count.text).group(1)  # type: ignore[union-attr]
        form = {"csrf_token": token, "reference": "BENCH-LIVE", "planned_date": dt.date.today().isoformat(),
                "purpose": "business_services", "exporter.name": "Bench Co.", "exporter.id": BUSIEST,
                "exporter.jurisdiction": "CN", "exporter.city": "Shenzhen", "recipient.name": "Harbour Ltd",
                "recipient.id": "32345678", "recipient.jurisdiction": "HK", "data.0.kind": "personal",
                "data.0.subjects": "1200", "data.0.sensitive": "medical_health"}
        csv_rows = ["reference,exporter_id,exporter_name,exporter_jurisdiction,exporter_city,recipient_id,"
                    "recipient_name,recipient_jurisdiction,purpose,planned_date,data_kind,subjects"]
        csv_rows += [f"INV-{i},{exporter_of(i)},Co,CN,Shenzhen,HK1,HK Ltd,HK,business_services,"
                     f"{dt.date.today().isoformat()},personal,{100 + i}" for i in range(100)]
        inventory = ("\n".join(csv_rows)).encode()
        pages: list[tuple[str, Any]] = [
            ("GET / (assess form)", lambda: client.get("/")),
            ("POST /assess/decide (live dry run)", lambda: client.post("/assess/decide", data=form,
                                                                        headers={"X-CSRF-Token": token})),
            ("POST /screen (100-row CSV)", lambda: client.post("/screen", data={"csrf_token": token},
                                                               files={"file": ("i.csv", inventory, "text/csv")})),
            ("GET /transfers (newest 50)", lambda: client.get("/transfers")),
            ("GET /transfers?exporter=busiest", lambda: client.get(f"/transfers?exporter={BUSIEST}")),
            ("GET /transfers?outcome=prohibited (none)", lambda: client.get("/transfers?outcome=prohibited")),
            ("GET /transfers/{id}", lambda: client.get(f"/transfers/{some_id}")),
            ("GET /transfers/{id}/record", lambda: client.get(f"/transfers/{some_id}/record")),
            ("GET /exporters", lambda: client.get("/exporters")),
            ("GET /exporters/{busiest}", lambda: client.get(f"/exporters/{BUSIEST}")),
            ("GET /exporters/{another}", lambda: client.get(f"/exporters/{exporter_of(1)}")),
            ("GET /rules", lambda: client.get("/rules")),
            ("GET /docs", lambda: client.get("/docs")),
        ]
        total = client.get(f"/exporters/{BUSIEST}").text.count("<tr>")
        print(f"\nbaygate web pages, {args.db}, p50 of {args.repeat} requests in process (ms)  [busiest exporter page "
              f"rows: {total}]")
        print(f"{'page':48} {'p50 ms':>8} {'max ms':>8}")
        for name, call in pages:
            p50, worst = p50_ms(call, args.repeat)
            print(f"{name:48} {p50:8.1f} {worst:8.1f}", flush=True)


if __name__ == "__main__":
    main()
