"""``baygate submit`` of a list file records it in groups (``Ledger.submit_many``, issue 21 point 6):
each item decided on the counts the ones before it left, exactly as one by one, results printed in
order; an NDJSON file (one request a line) is read line by line, a bad line refused alone, named by its
file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.ledger import Ledger
from engine.ledger.recording import BULK_GROUP
from tests.hardening.conftest import good_request
from tests.hardening.test_results import invoke


def ndjson(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def same_exporter(count: int, subjects: int) -> list[dict[str, Any]]:
    first = good_request()
    found = []
    for _ in range(count):
        item = good_request()
        item["exporter"] = first["exporter"]
        item["data"] = [{"kind": "personal", "subjects": subjects}]
        found.append(item)
    return found


def test_an_ndjson_file_is_recorded_line_by_line_each_bad_line_named(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    items = same_exporter(4, 40_000)
    lines = [json.dumps(items[0]), "", json.dumps(items[1]), '{"reference": "X", "reference": "Y"}',
             json.dumps({**items[2], "purpose": "espionage"}), json.dumps([items[3]]), "reference: Y",
             json.dumps(items[3])]
    listed = ndjson(tmp_path / "requests.ndjson", lines)
    code, out, err = invoke("submit", "--json", listed, db=db)
    assert code == 3, err
    results = json.loads(out)
    assert [r["result"] for r in results] == ["recorded", "recorded", "refused", "refused", "refused", "refused",
                                             "recorded"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4, 5, 6]  # blank lines are not items
    assert f"{listed}[2]: line 4: reference" in err  # the duplicate key, named by file, item and line
    assert f"{listed}[3]: line 5: purpose" in err
    assert f"{listed}[4]: line 6: one request a line" in err
    assert f"{listed}[5]: line 7: not a JSON object" in err  # never read as YAML
    # Each decided on the counts the ones before it left: 0, 40,000, then 80,000 before the third.
    before = [r["decision"]["counts"]["personal_subjects_before"] for r in results if r["result"] == "recorded"]
    assert before == [0, 40_000, 80_000]
    ledger = Ledger(f"sqlite:///{db}", upgrade=False)
    try:
        assert ledger.verify().ok
    finally:
        ledger.close()


def test_a_list_longer_than_a_group_records_every_item_in_order(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    count = BULK_GROUP + 10  # two groups
    items = same_exporter(count, 1_000)
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(items), encoding="utf-8")
    code, out, err = invoke("submit", "--json", str(listed), db=db)
    assert code in (0, 1, 2), err
    results = json.loads(out)
    assert [r["index"] for r in results] == list(range(count)) and {r["result"] for r in results} == {"recorded"}
    across = slice(BULK_GROUP - 2, BULK_GROUP + 3)  # the last of the first group, the first of the second
    assert [r["decision"]["counts"]["personal_subjects_before"] for r in results][across] == \
        [1_000 * n for n in range(BULK_GROUP - 2, BULK_GROUP + 3)]


def test_a_missing_ndjson_file_is_refused_whole_and_named(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    good = tmp_path / "good.json"
    good.write_text(json.dumps(good_request()), encoding="utf-8")
    code, _out, err = invoke("submit", str(good), str(tmp_path / "missing.ndjson"), db=db)
    assert code == 3 and "missing.ndjson" in err and "cannot read" in err
