"""A refused request names the line of each field problem in its file (YAML or JSON, one request or
a list), so the person who wrote it goes straight there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from api.cli import app
from api.http.encode import EXAMPLE_REQUEST
from engine.errors import InputError
from engine.inputs import load_requests

BAD = """\
reference: X
exporter:
  id: A
  name: B
  jurisdiction: CN
recipient: {id: R, name: N, jurisdiction: HK}
purpose: nonsense
planned_date: 2026-12-01
data:
  - kind: personal
    subjects: -5
"""


def stderr_of(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["evaluate", "--db", f"sqlite:///{tmp_path / 'none.db'}", *args])
    assert result.exit_code == 3, result.output
    return result.output


def test_a_yaml_request_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    output = stderr_of(tmp_path, str(path))
    assert f"{path}:7: purpose: " in output
    assert f"{path}:11: data[0].subjects: " in output
    assert f"{path}:2: exporter.city: " in output  # left out: the line of the mapping that should hold it


def test_a_list_names_the_item_and_its_line(tmp_path: Path) -> None:
    good = json.loads(json.dumps(EXAMPLE_REQUEST))
    # no object shared with `good`: YAML would write it once and refer to it by an alias
    bad = {**json.loads(json.dumps(good)), "reference": "B-2", "purpose": "nonsense"}
    for name, text in (("list.yaml", yaml.safe_dump([good, bad], sort_keys=False)),
                       ("list.json", json.dumps([good, bad], indent=2))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        line = next(number for number, content in enumerate(text.splitlines(), 1)
                    if "nonsense" in content)
        assert f"{path}:{line}: [1].purpose: " in stderr_of(tmp_path, str(path)), name


def test_load_requests_raises_with_lines() -> None:
    with pytest.raises(InputError) as refused:
        load_requests(BAD.encode(), "bad.yaml")
    assert {(problem.path, problem.line) for problem in refused.value.problems} >= {
        ("purpose", 7), ("data[0].subjects", 11)}
    assert "bad.yaml:7: purpose: " in str(refused.value)
