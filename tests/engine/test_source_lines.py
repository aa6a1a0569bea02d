"""engine/source_lines.py: the line a field path is written on, in YAML and JSON request files."""

from __future__ import annotations

import json

from engine.source_lines import field_lines, parse_path

YAML_TEXT = """\
reference: X
exporter:
  id: A
  name: B
  jurisdiction: CN
recipient: {id: R, name: N, jurisdiction: HK}
purpose: nonsense
data:
  - kind: personal
    subjects: 3
  - kind: personal
    subjects: -5
    sensitive: [medical_health, nonsense]
"""


def lines(text: str, *paths: str) -> dict[str, int]:
    found = field_lines(text, [parse_path(path) for path in paths])
    return {path: found[parse_path(path)] for path in paths if parse_path(path) in found}


def test_paths_are_read_as_field_path_writes_them() -> None:
    assert parse_path("data[1].subjects") == ("data", 1, "subjects")
    assert parse_path("[2].purpose") == (2, "purpose")
    assert parse_path("") == ()


def test_yaml_keys_list_items_and_flow_collections() -> None:
    assert lines(YAML_TEXT, "purpose", "data[1].subjects", "data[0].subjects", "recipient.jurisdiction",
                 "data[1].sensitive[1]") == {"purpose": 7, "data[1].subjects": 12, "data[0].subjects": 10,
                                             "recipient.jurisdiction": 6, "data[1].sensitive[1]": 13}


def test_a_field_left_out_is_placed_at_its_parent() -> None:
    assert lines(YAML_TEXT, "exporter.city", "safeguards.notice_given") == {"exporter.city": 2,
                                                                          "safeguards.notice_given": 1}


def test_json_and_lists_of_requests() -> None:
    text = json.dumps([{"reference": "a"}, {"reference": "b", "data": [{"kind": "personal", "subjects": 0}]}],
                      indent=2)
    assert lines(text, "[1].data[0].subjects", "[0].reference") == {"[1].data[0].subjects": 10,
                                                                    "[0].reference": 3}


def test_text_that_does_not_parse_gives_what_it_can() -> None:
    assert lines("reference: X\npurpose: [unclosed\n", "purpose") in ({"purpose": 2}, {})
