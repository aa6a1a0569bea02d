"""schemathesis against the service's own OpenAPI: property-based requests to every operation, each
answered without a server error and with a response that matches the documented schema.

Runs the schemathesis command line against the real uvicorn server of this folder's fixtures, once
with each role's key so that every route is reached with a key it accepts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.conftest import KEYS, Server

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.mark.parametrize("role, selection", [
    ("submitter", ["--include-path-regex", "^/v1/(evaluate|transfers)"]),
    ("auditor", ["--include-method", "GET"]),
    ("rules_admin", ["--include-path", "/v1/rules/validate"]),
])
def test_every_operation_answers_within_its_schema(server: Server, role: str, selection: list[str]) -> None:
    if not SCHEMATHESIS.exists() and shutil.which("schemathesis") is None:
        pytest.fail("schemathesis is not installed: it is a dev dependency (pip install -e '.[dev]')")
    command = [str(SCHEMATHESIS if SCHEMATHESIS.exists() else "schemathesis"), "run", f"{server.url}/openapi.json",
               "--checks", CHECKS, "--max-examples", "8", "--seed", "1", "--no-color",
               "-H", f"Authorization: Bearer {KEYS[role]}", *selection]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "generated" in result.stdout
