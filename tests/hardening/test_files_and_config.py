"""Files and configuration (issue 18, points 3 and 5): only regular files are read, the size is known
before reading, a pack folder's links stay inside it, errors in packs and options files are named
with their line (exit 3, HTTP 422, never 500 or exit 1), and the service refuses a configuration it
cannot use with a one-line reason before any worker starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.http.security import KeyConfigError, load_keys
from api.http.settings import Settings
from engine.errors import ConfigError, RulePackError
from engine.files import FileRefused, read_regular_file
from engine.rulespec import load_pack_set
from tests.hardening.conftest import ROOT, InProcess, dumps, good_request

RULES = ROOT / "rules"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def test_a_fifo_and_a_device_are_refused_before_they_are_opened(fifo: Path, tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: a hang, were it opened."""
    for path, kind in ((fifo, "FIFO"), (Path("/dev/zero"), "character device")):
        with pytest.raises(FileRefused, match=kind):
            read_regular_file(path, 1000)
        code, out, err = invoke("evaluate", str(path), env={"BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
        assert code == 3 and kind in err and out == "", (code, err)


def test_a_fifo_in_a_folder_of_requests_is_refused_and_the_rest_decided(fifo: Path, tmp_path: Path) -> None:
    (tmp_path / "good.json").write_bytes(dumps(good_request()))
    code, out, err = invoke("evaluate", str(tmp_path), env={"BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert code == 3 and "pipe.yaml: a FIFO" in err and "Outcome:" in out


def test_the_size_is_checked_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as sink:  # sparse: the size is known, nothing need be read to refuse it
        sink.seek(50_000_000)
        sink.write(b"}")
    with pytest.raises(FileRefused, match="larger than 20000000 bytes"):
        read_regular_file(big, 20_000_000)


def test_standard_input_is_bounded() -> None:
    result = CliRunner().invoke(app, ["evaluate", "-"], input=b"{" * 20_000_001)
    assert result.exit_code == 3 and "larger than" in result.stderr


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    return folder


def _validate(folder: Path) -> tuple[int, str]:
    code, out, err = invoke("rules", "validate", "--syntax-only", str(folder))
    return code, out + err


@pytest.mark.parametrize("target", ["/etc/passwd", "secret"])
def test_a_link_out_of_the_pack_folder_is_refused_and_never_echoed(packs: Path, tmp_path: Path, target: str) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("root: hunter2-the-password\n", encoding="utf-8")
    (packs / "zz.yaml").symlink_to(outside if target == "secret" else target)
    code, text = _validate(packs)
    assert code == 3 and "zz.yaml" in text and "outside the folder" in text
    assert "hunter2" not in text and "root" not in text.replace("rules/", "")


def test_a_link_inside_the_pack_folder_is_read(packs: Path) -> None:
    (packs / "sub").mkdir()
    (packs / "gba-contract.yaml").rename(packs / "sub" / "gba.txt")  # read through the link only
    (packs / "gba-contract.yaml").symlink_to(packs / "sub" / "gba.txt")
    assert len(load_pack_set(packs).packs) == len(load_pack_set(RULES).packs)


def test_a_fifo_among_the_packs_is_refused_not_skipped(packs: Path) -> None:
    os.mkfifo(packs / "zz.yaml")
    code, text = _validate(packs)
    assert code == 3 and "zz.yaml:0: a FIFO" in text


def test_a_file_that_is_no_pack_is_not_echoed(packs: Path) -> None:
    (packs / "notes.yaml").write_text("database_password: hunter2\nanother: thing\n", encoding="utf-8")
    with pytest.raises(RulePackError) as refused:
        load_pack_set(packs)
    text = str(refused.value)
    assert "notes.yaml:1: not a rule pack" in text and "hunter2" not in text and "database_password" not in text


PACK_BREAKS = {
    "impossible-date": ("from: 2024-03-22", "from: 2024-02-30", "not a valid date"),
    "month-13": ("from: 2024-03-22", "from: 2024-13-22", "not a valid date"),
    "hour-25": ("from: 2024-03-22", "from: 2024-03-22 25:00:00", "not a valid date"),
    "huge-int": ("gte: 100000}", "gte: 1" + "0" * 5000 + "}", "4,300 digits"),
}


@pytest.mark.parametrize("name", sorted(PACK_BREAKS))
def test_unbuildable_values_in_a_pack_are_file_line_errors_at_every_door(packs: Path, name: str,
                                                                         inprocess: InProcess, tmp_path: Path) -> None:
    old, new, words = PACK_BREAKS[name]
    pack = packs / "cn-outbound.yaml"
    text = pack.read_text(encoding="utf-8")
    assert old in text
    pack.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, out = _validate(packs)
    assert code == 3 and "rules/cn-outbound.yaml:" in out and words in out, out[-500:]
    request = tmp_path / "one.json"
    request.write_bytes(dumps(good_request()))
    code, _, err = invoke("evaluate", "--rules", str(packs), str(request),
                          env={"BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert code == 3 and words in err
    code, _, err = invoke("rules", "diff", str(RULES), str(packs), "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 3 and words in err
    answer = inprocess.client.post("/v1/rules/validate", json={"files": {p.name: p.read_text(encoding="utf-8")
                                                                         for p in packs.glob("*.yaml")}},
                                   headers=inprocess.headers("rules_admin"))
    assert answer.status_code == 422 and words in answer.text, answer.text[:500]
    assert answer.json()["issues"][0]["file"].endswith("cn-outbound.yaml") and answer.json()["issues"][0]["line"] > 0


@pytest.mark.parametrize(("content", "words"), [
    ("gba_contract_at_assessment_level: 2026-02-30\n", "not a valid date"),
    ("gba_contract_at_assessment_level: 1" + "0" * 5000 + "\n", "4,300 digits"),
    ("gba_contract_at_assessment_level: maybe\n", "expected true or false"),
    ("[1, 2]\n", "mapping of option id"),
])
def test_options_file_errors_are_named_with_exit_3(content: str, words: str, tmp_path: Path) -> None:
    options = tmp_path / "options.yaml"
    options.write_text(content, encoding="utf-8")
    request = tmp_path / "one.json"
    request.write_bytes(dumps(good_request()))
    code, _, err = invoke("evaluate", str(request), env={"BAYGATE_OPTIONS_FILE": str(options),
                                                          "BAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert code == 3 and words in err, (code, err)


def test_a_number_option_is_never_truncated() -> None:
    from engine.evaluator import OptionError, whole_number

    assert whole_number("x", 12) == 12 and whole_number("x", " 12 ") == 12
    for bad in (12.7, True, "12.7", "1e3", "1" * 5000):
        with pytest.raises(OptionError):
            whole_number("x", bad)


def _settings(**env: str) -> Settings:
    return Settings.from_env({"BAYGATE_RULES": str(RULES), **env})


@pytest.mark.parametrize(("env", "words"), [
    ({"BAYGATE_MAX_BODY_BYTES": "5MB"}, "BAYGATE_MAX_BODY_BYTES"),
    ({"BAYGATE_MAX_BODY_BYTES": "-1"}, "BAYGATE_MAX_BODY_BYTES"),
    ({"BAYGATE_MAX_BATCH_ITEMS": "lots"}, "BAYGATE_MAX_BATCH_ITEMS"),
    ({"BAYGATE_DATABASE_URL": "not a url"}, "cannot be parsed"),
    ({"BAYGATE_DATABASE_URL": "postgresql://u:hunter2@h:port/db"}, "cannot be parsed"),
    ({"BAYGATE_DATABASE_URL": "sqlite://"}, "in-memory"),
    ({"BAYGATE_DATABASE_URL": "sqlite:///:memory:"}, "in-memory"),
])
def test_settings_refuse_what_they_cannot_use(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words) as refused:
        _settings(**env)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("value", ["   ", ",,,", " , ,\n"])
def test_blank_keys_are_refused_not_read_as_no_keys(value: str, tmp_path: Path) -> None:
    with pytest.raises(KeyConfigError, match="holds no key"):
        load_keys({"BAYGATE_API_KEYS": value})
    keys = tmp_path / "keys"
    keys.write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(KeyConfigError, match="holds no key"):
        load_keys({"BAYGATE_API_KEYS_FILE": str(keys)})
    assert not load_keys({"BAYGATE_API_KEYS": ""}).configured  # empty is unset: loopback only, as before


@pytest.mark.parametrize(("name", "value", "words"), [
    ("BAYGATE_MAX_BODY_BYTES", "5MB", "BAYGATE_MAX_BODY_BYTES"),
    ("BAYGATE_API_KEYS", ",,,", "holds no key"),
    ("BAYGATE_DATABASE_URL", "nonsense", "cannot be parsed"),
    ("BAYGATE_DATABASE_URL", "sqlite://", "in-memory"),
    ("BAYGATE_OPTION_GBA_CONTRACT_AT_ASSESSMENT_LEVEL", "maybe", "expected true or false"),
])
def test_serve_refuses_to_start_with_one_line(name: str, value: str, words: str, tmp_path: Path) -> None:
    """Through the real process: it must stop at once (no worker started), not crash-loop its workers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYGATE_")} | {name: value,
                                                                                   "BAYGATE_RULES": str(RULES)}
    done = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, (done.returncode, done.stderr[-1000:])
    last = done.stderr.strip().splitlines()[-1]
    assert words in last and "Traceback" not in done.stderr and "Started" not in done.stderr


def test_recording_commands_refuse_an_in_memory_database(tmp_path: Path) -> None:
    request = tmp_path / "one.json"
    request.write_bytes(dumps(good_request()))
    for args in (("submit", str(request)), ("withdraw", "X"), ("audit", "verify"), ("db", "upgrade")):
        code, out, err = invoke(*args, "--db", "sqlite://")
        assert code == 3 and "in-memory" in err and "recorded" not in out, (args, code, err)


def test_a_database_url_that_does_not_parse_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    request = tmp_path / "one.json"
    request.write_bytes(dumps(good_request()))
    for args in (("submit", str(request), "--db", "nonsense"), ("evaluate", str(request))):
        code, _, err = invoke(*args, env={"BAYGATE_DATABASE_URL": "nonsense"})
        assert code == 3 and "cannot be parsed" in err, (args, code, err)

