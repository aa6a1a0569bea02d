"""atheris (coverage-guided, libFuzzer) target for baygate's YAML/JSON loaders (issue 10, point 2).

Each input goes to the request loader (``engine.inputs.load_requests``: bytes -> requests) and to the
rule pack loader (``engine.rulespec.load_pack_set`` on a one-file folder). The documented refusals
(InputError, RulePackError) are expected; any other exception is a crash, and so is an input that
takes longer than a second (libFuzzer's ``-timeout``). Run outside the test suite:

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_yaml.py -max_total_time=300 -timeout=2 -rss_limit_mb=2048 \
        fuzz/corpus fuzz/seeds

``fuzz/seeds`` holds the shipped packs and example requests; ``fuzz/corpus`` (not committed) grows
as libFuzzer finds new paths. A crash leaves ``crash-<sha1>`` with the input; replay it with
``.venv/bin/python fuzz/fuzz_yaml.py crash-<sha1>``. docs/hardening.md has the results of each run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from engine.errors import InputError, RulePackError
    from engine.inputs import load_requests
    from engine.rulespec import load_pack_set

_FOLDER = Path(tempfile.mkdtemp(prefix="baygate-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
_PACK = _FOLDER / "fuzz.yaml"


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(InputError):
        load_requests(data, "fuzz")
    _PACK.write_bytes(data)
    with contextlib.suppress(RulePackError):
        load_pack_set(_FOLDER)


def main() -> None:
    sys.setrecursionlimit(1000)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
