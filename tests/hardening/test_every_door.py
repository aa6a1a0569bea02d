"""Every door holds (issue 18): valid request files, rule packs and options files, mutated at the text
level by hypothesis, sent through every door; each answer must be an allowed exit status or HTTP
status, with no traceback, within a generous time (a hang fails the example).

Doors, in process (Typer's CliRunner runs the same ``GuardedGroup.main`` as ``baygate``; Starlette's
TestClient the same ASGI app as uvicorn): ``evaluate``, ``submit``, ``evaluate`` under a mutated
options file, ``rules validate``, ``rules diff``; ``POST /v1/evaluate``, ``/v1/evaluate/batch``,
``/v1/transfers``, ``/v1/rules/validate``, and the GET routes with mutated ids and query values.
Through the real process and uvicorn: ``baygate evaluate`` and ``POST /v1/evaluate`` for a few
examples. A new door is a row in ``CLI_DOORS`` or a test beside these.

The default run is short (``BAYGATE_DOORS_EXAMPLES`` examples a door, default 25). A long run:
``BAYGATE_DOORS_EXAMPLES=2000 pytest tests/hardening/test_every_door.py --hypothesis-show-statistics``
(each example's exit status or HTTP status is counted per door; the counts are printed at the end of
the module, shown with ``-s``).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.cli import app
from tests.hardening.conftest import ROOT, InProcess, Server, dumps, good_request

EXAMPLES = int(os.environ.get("BAYGATE_DOORS_EXAMPLES", "25"))
PER_EXAMPLE = dt.timedelta(seconds=float(os.environ.get("BAYGATE_DOORS_DEADLINE", "60")))
"""A guard against hangs, not a timing: far above any answer on a loaded 2-core machine."""
DOOR_SETTINGS = settings(max_examples=EXAMPLES, deadline=PER_EXAMPLE, derandomize=False,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                HealthCheck.data_too_large])

TRICKY = [
    "2026-02-30", "2026-13-01", "0000-01-01", "2026-12-01 25:00:00", "2026-12-01T10:61:00+24:00", "!!timestamp x",
    "!!binary aGk=", "!!set {a: null}", "!!python/object/apply:os.system ['true']", "&a x", "*a", "<<: {a: 1}",
    "yes", "no", "on", "~", "null", "true", ".inf", ".nan", "-0", "0x1F", "0o17", "1_000", "1e400",
    "1" * 5000, "-" + "9" * 4400, "1764547200", '"1764547200"', "'12'", "\t", "\u202e", "\u200b", "\x00", "\x07",
    "\ufeff", "{", "}", "[", "]", ",", ":", ": ", "- ", "\n- ", "\n  ", "#", '"', "'", "\\", "---\n", "...\n",
    "%YAML 1.2\n",
    "? ", "|\n  x", ">\n  x", "{a: [", "[" * 60, "planned_date: 2026-12-01", "subjects: 100000", "reference: R",
    "kind: personal", "ciio: yes", '"reference": "R"', '"a": 1, "a": 2', "𝒳", "深圳", "é", "\r\n",
]


SCALARS = ["2026-02-30", "2026-13-01", "2026-12-00", "0000-01-01", "2026-12-01 25:00:00", "2026-12-01T10:61:00",
           "2026-12-01T10:00:00+24:00", "!!timestamp 2026-02-30", "1" * 5000, "-" + "9" * 4400, "1e400", ".inf",
           ".nan", "yes", "no", "~", "1764547200", '"1764547200"', "'12'", "12.0", "true", "0x1F", "!!binary aGk=",
           '"2026-12-01"', "2026-12-01", "0", "-1", '""', "[]", "{}"]
"""Whole scalars for a value: well formed, so the value itself is what is tested."""
VALUE = re.compile(r"(?:: |\"\s*:\s*)([^\n,}]*)")
"""A value after ``key:`` (YAML) or ``"key":`` (JSON), up to the end of the line, a comma or a brace."""


@st.composite
def mutated(draw: st.DrawFn, seed: str) -> str:
    """``seed`` with up to three text-level edits: insert, delete, duplicate, replace, truncate, flip a
    character, or replace a whole value (none now and then, so that the valid path is taken too)."""
    text = seed
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["value", "insert", "delete", "value", "duplicate", "replace", "truncate",
                                     "flip"]))
        piece = draw(st.one_of(st.sampled_from(TRICKY), st.text(max_size=12)))
        span = draw(st.integers(1, 40))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + span:]
        elif kind == "duplicate":
            text = text[:at] + text[at:at + span] * draw(st.integers(2, 4)) + text[at:]
        elif kind == "replace":
            text = text[:at] + piece + text[at + span:]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "value":  # a whole value replaced: where a date, a count or a flag is read
            values = list(VALUE.finditer(text))
            if values:
                found = values[draw(st.integers(0, len(values) - 1))]
                text = text[:found.start(1)] + draw(st.sampled_from(SCALARS)) + text[found.end(1):]
        elif text:
            index = min(at, len(text) - 1)
            text = text[:index] + chr((ord(text[index]) + draw(st.integers(1, 255))) % 0x3000 or 1) + text[index + 1:]
    return text


EXAMPLE_FILES = sorted((ROOT / "examples").glob("*.yaml"))
JSON_SEEDS = [json.dumps(yaml.safe_load(p.read_text(encoding="utf-8")), default=str, indent=1)
              for p in EXAMPLE_FILES] + [json.dumps(good_request()), json.dumps([good_request(), good_request()])]
REQUEST_SEEDS = [p.read_text(encoding="utf-8") for p in EXAMPLE_FILES] + JSON_SEEDS
PACKS = sorted((ROOT / "rules").glob("*.yaml"))
OPTIONS_SEEDS = ["gba_contract_at_assessment_level: false\n", "gba_contract_at_assessment_level: true\n",
                 '{"gba_contract_at_assessment_level": false}\n', "# no options set\n{}\n"]


def request_texts(seeds: list[str] = REQUEST_SEEDS) -> st.SearchStrategy[str]:
    return st.sampled_from(seeds).flatmap(mutated)


OUTCOMES: collections.Counter[tuple[str, int]] = collections.Counter()


def event(what: str) -> None:
    """Count one example's outcome: ``door: exit N`` or ``METHOD path: status``."""
    door, _, status = what.rpartition(" ")
    OUTCOMES[(door.rstrip(":").removesuffix(": exit"), int(status))] += 1


@pytest.fixture(scope="module", autouse=True)
def _report_outcomes() -> Iterator[None]:
    yield
    doors = sorted({door for door, _ in OUTCOMES})
    print("\nevery door: generated cases and their answers")
    for door in doors:
        answers = {status: n for (d, status), n in sorted(OUTCOMES.items()) if d == door}
        print(f"  {door:<36} {sum(answers.values()):>5} cases  " + "  ".join(f"{k}: {v}" for k, v in answers.items()))


def _no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text[-3000:]


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def run(*args: str, env: dict[str, str] | None = None) -> Ran:
    result = CliRunner().invoke(app, list(args), env=env)
    # Anything but SystemExit escaping the guard would be a traceback in the real process.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    _no_traceback(result.stdout, result.stderr)
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("every-door")


@pytest.fixture(scope="module")
def recorded_ledger(workspace: Path) -> str:
    """A ledger with a few recorded transfers, for ``rules diff``."""
    url = f"sqlite:///{workspace / 'recorded.db'}"
    requests = workspace / "recorded.json"
    requests.write_bytes(dumps([good_request() for _ in range(3)]))
    assert run("submit", str(requests), "--db", url).code in (0, 1, 2)
    return url


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


# ------------------------------------------------------------------------------------------ CLI doors

CLI_DOORS: dict[str, tuple[Callable[[Path, Path, str], list[str]], set[int]]] = {
    # door: (arguments given the request file, the workspace and a ledger URL; allowed exit statuses)
    "evaluate": (lambda f, w, db: ["evaluate", "--json", str(f)], {0, 1, 2, 3}),
    "evaluate-text": (lambda f, w, db: ["evaluate", "--lang", "zh-Hant", str(f)], {0, 1, 2, 3}),
    "submit": (lambda f, w, db: ["submit", "--json", str(f), "--db", db], {0, 1, 2, 3}),
    # amends the transfer AMENDED_SEED, recorded first: every mutated request, valid or not, amends it or is
    # refused (a change of parties, data or purpose included) with 3
    "amend": (lambda f, w, db: ["amend", "--json", AMENDED_SEED["reference"], str(f), "--db", db], {0, 1, 2, 3}),
}
AMENDED_SEED = json.loads(JSON_SEEDS[-2])
"""The seed request (a good request) the amend doors amend once it is recorded."""


@pytest.mark.parametrize("door", sorted(CLI_DOORS))
def test_request_doors(door: str, workspace: Path) -> None:
    arguments, allowed = CLI_DOORS[door]
    folder = workspace / door
    folder.mkdir(exist_ok=True)
    db = f"sqlite:///{folder / 'ledger.db'}"
    if door == "amend":
        assert run("submit", str(_write(folder, "recorded.json", JSON_SEEDS[-2])), "--db", db).code in (0, 1, 2)

    @DOOR_SETTINGS
    @given(text=request_texts(), suffix=st.sampled_from([".yaml", ".json", ".ndjson"]))
    def door_holds(text: str, suffix: str) -> None:
        path = _write(folder, "request" + suffix, text)
        ran = run(*arguments(path, workspace, db), env={"BAYGATE_DATABASE_URL": f"sqlite:///{folder}/none.db"})
        event(f"{door}: exit {ran.code}")
        assert ran.code in allowed, (ran.code, ran.stderr[-2000:])
        if ran.code == 3:
            assert "baygate:" in ran.stderr  # the problem is named

    door_holds()


def test_options_file_door(workspace: Path) -> None:
    folder = workspace / "options"
    folder.mkdir(exist_ok=True)
    request = _write(folder, "one.json", json.dumps(good_request()))

    @DOOR_SETTINGS
    @given(text=st.sampled_from(OPTIONS_SEEDS).flatmap(mutated))
    def door_holds(text: str) -> None:
        options = _write(folder, "options.yaml", text)
        ran = run("evaluate", str(request), env={"BAYGATE_OPTIONS_FILE": str(options),
                                                 "BAYGATE_DATABASE_URL": f"sqlite:///{folder}/none.db"})
        event(f"options: exit {ran.code}")
        assert ran.code in {0, 1, 2, 3}, (ran.code, ran.stderr[-2000:])

    door_holds()


@pytest.fixture(scope="module")
def pack_folder(workspace: Path) -> Path:
    folder = workspace / "rules"
    shutil.copytree(ROOT / "rules", folder)
    return folder


def pack_edits() -> st.SearchStrategy[tuple[str, str]]:
    return st.sampled_from(PACKS).flatmap(lambda p: st.tuples(st.just(p.name), mutated(p.read_text(encoding="utf-8"))))


def test_rules_validate_door(pack_folder: Path) -> None:
    # The completeness check of a changed pack can take tens of seconds on this machine (22-96 s seen
    # for one mutated cn-general.yaml under load): it runs for one example in four, with a longer guard.
    @settings(DOOR_SETTINGS, deadline=PER_EXAMPLE * 5)
    @given(edit=pack_edits(), complete=st.sampled_from([False, False, False, True]))
    def door_holds(edit: tuple[str, str], complete: bool) -> None:
        name, text = edit
        try:
            _write(pack_folder, name, text)
            ran = run("rules", "validate", "--complete" if complete else "--syntax-only", str(pack_folder))
        finally:
            shutil.copy(ROOT / "rules" / name, pack_folder / name)
        event(f"rules validate: exit {ran.code}")
        assert ran.code in {0, 1, 3}, (ran.code, ran.stderr[-2000:])
        if ran.code == 3:
            assert f"{pack_folder.name}/{name}:" in ran.stderr or "refused" in ran.stderr

    door_holds()


def test_rules_diff_door(pack_folder: Path, recorded_ledger: str) -> None:
    @DOOR_SETTINGS
    @given(edit=pack_edits())
    def door_holds(edit: tuple[str, str]) -> None:
        name, text = edit
        try:
            _write(pack_folder, name, text)
            ran = run("rules", "diff", str(ROOT / "rules"), str(pack_folder), "--db", recorded_ledger)
        finally:
            shutil.copy(ROOT / "rules" / name, pack_folder / name)
        event(f"rules diff: exit {ran.code}")
        assert ran.code in {0, 1, 3}, (ran.code, ran.stderr[-2000:])

    door_holds()


# ----------------------------------------------------------------------------------------- HTTP doors

HTTP_ALLOWED = {
    "/v1/evaluate": {200, 413, 415, 422},
    "/v1/transfers": {200, 201, 409, 413, 415, 422},
    "/v1/evaluate/batch": {200, 413, 415, 422},
    f"/v1/transfers/{AMENDED_SEED['reference']}/amend": {200, 409, 413, 415, 422},
    "/v1/transfers/batch": {200, 413, 415, 422},
}


@pytest.mark.parametrize("path", sorted(HTTP_ALLOWED))
def test_http_body_doors(path: str, inprocess: InProcess) -> None:
    if path.endswith("/amend"):  # the transfer it amends is recorded (this request, or a mutation of it before)
        recorded = inprocess.client.post("/v1/transfers", content=JSON_SEEDS[-2].encode(), headers=inprocess.headers(
            "submitter", **{"Content-Type": "application/json"}))
        assert recorded.status_code in (200, 201, 409), recorded.text

    @DOOR_SETTINGS
    @given(text=request_texts(JSON_SEEDS), wrap=st.booleans())
    def door_holds(text: str, wrap: bool) -> None:
        body = text.encode("utf-8", "surrogatepass")
        if path.endswith("/batch") and wrap:
            body = b'{"requests": [' + body + b"]}"
        answer = inprocess.client.post(path, content=body, headers=inprocess.headers(
            "submitter", **{"Content-Type": "application/json"}))
        event(f"POST {path}: {answer.status_code}")
        assert answer.status_code in HTTP_ALLOWED[path], (answer.status_code, answer.text[:2000])
        _no_traceback(answer.text)

    door_holds()


def test_http_rules_validate_door(inprocess: InProcess) -> None:
    @DOOR_SETTINGS
    @given(edit=pack_edits())
    def door_holds(edit: tuple[str, str]) -> None:
        name, text = edit
        files = {p.name: p.read_text(encoding="utf-8") for p in PACKS} | {name: text}
        answer = inprocess.client.post("/v1/rules/validate", json={"files": files},
                                       headers=inprocess.headers("rules_admin"))
        event(f"POST /v1/rules/validate: {answer.status_code}")
        assert answer.status_code in {200, 422}, (answer.status_code, answer.text[:2000])

    door_holds()


GET_ROUTES = ["/v1/transfers/{x}", "/v1/exporters/{x}/counts", "/v1/audit/verify-jobs/{x}", "/v1/rules", "/readyz",
              "/healthz"]

_KEY = "MCowBQYDK2VwAyEA" + "A" * 43 + "="
VERIFY_JOB_SEEDS = [
    "{}",
    json.dumps({"checkpoints": [{"format": "baygate-checkpoint/1", "seq": 1, "hash": "0" * 64, "at": None}]}),
    json.dumps({"public_keys": [f"-----BEGIN PUBLIC KEY-----\n{_KEY}\n-----END PUBLIC KEY-----\n"]}),
]
"""Bodies of POST /v1/audit/verify-jobs: none, a checkpoint, a public key (each mutated by the door test)."""


def test_http_verify_jobs_door(inprocess: InProcess) -> None:
    """Whatever the body, a verify job is started (202, then readable) or refused naming why (4xx)."""
    @DOOR_SETTINGS
    @given(text=request_texts(VERIFY_JOB_SEEDS))
    # a key the job never reads, holding what JSON cannot store (more than 4,300 digits): it was a 500
    @example(text='{"checkpoints": [{"format": "baygate-checkpoint/1", "seq": 0, "hash": "' + "0" * 64
             + '", "note": ' + "1" * 5000 + "}]}")
    def door_holds(text: str) -> None:
        answer = inprocess.client.post("/v1/audit/verify-jobs", content=text.encode("utf-8", "surrogatepass"),
                                       headers=inprocess.headers("auditor", **{"Content-Type": "application/json"}))
        event(f"POST /v1/audit/verify-jobs: {answer.status_code}")
        assert answer.status_code in {202, 413, 415, 422}, (text[:500], answer.status_code, answer.text[:1000])
        if answer.status_code == 202:
            job = inprocess.client.get(answer.headers["Location"], headers=inprocess.headers("auditor"))
            assert job.status_code == 200 and job.json()["id"] == answer.json()["id"], job.text
        else:
            assert answer.json()["status"] == answer.status_code, answer.text

    door_holds()


def test_http_get_doors(inprocess: InProcess) -> None:
    @DOOR_SETTINGS
    @given(route=st.sampled_from(GET_ROUTES), value=st.one_of(st.sampled_from(TRICKY), st.text(max_size=30)),
           query=st.dictionaries(st.sampled_from(["exporter_id", "year", "as_of", "x"]),
                                 st.one_of(st.sampled_from(TRICKY), st.text(max_size=20)), max_size=2))
    def door_holds(route: str, value: str, query: dict[str, str]) -> None:
        from urllib.parse import quote

        path = route.replace("{x}", quote(value, safe="") or "x")
        answer = inprocess.client.get(path, params=query, headers=inprocess.headers("auditor"))
        event(f"GET {route}: {answer.status_code}")
        assert answer.status_code in {200, 404, 405, 409, 422}, (path, answer.status_code, answer.text[:1000])

    door_holds()


# ------------------------------------------------------------------------- the real process and uvicorn

@pytest.fixture(scope="module")
def real_examples() -> list[str]:
    """A few mutated requests, drawn once (a process each is slow): the same for both real doors."""
    found: list[str] = []

    @settings(max_examples=max(4, EXAMPLES // 5), deadline=None, database=None)
    @given(text=request_texts(JSON_SEEDS))
    def collect(text: str) -> None:
        found.append(text)

    collect()
    return found


def test_real_process_evaluate(real_examples: list[str], tmp_path: Path) -> None:
    for index, text in enumerate(real_examples):
        path = _write(tmp_path, f"r{index}.yaml", text)
        done = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "evaluate", str(path)],
                              cwd=tmp_path, capture_output=True, timeout=120,
                              env={**{k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_")},
                                   "BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/none.db"})
        stderr = done.stderr.decode("utf-8", "replace")
        event(f"baygate evaluate (process): exit {done.returncode}")
        assert done.returncode in {0, 1, 2, 3}, (done.returncode, stderr[-2000:])
        _no_traceback(stderr, done.stdout.decode("utf-8", "replace"))


def test_real_uvicorn_evaluate(real_examples: list[str], hserver: Server) -> None:
    client = hserver.client("submitter")
    for text in real_examples:
        answer = client.post("/v1/evaluate", content=text.encode("utf-8", "surrogatepass"),
                             headers={"Content-Type": "application/json"})
        event(f"POST /v1/evaluate (uvicorn): {answer.status_code}")
        assert answer.status_code in HTTP_ALLOWED["/v1/evaluate"], (answer.status_code, answer.text[:1000])
    assert "Traceback" not in hserver.log_text()

