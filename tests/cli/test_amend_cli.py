"""``baygate amend ID FILE`` in-process on a SQLite ledger: exit status by the new decision, 3 for what is
not an amendment (the differing field named) and for a withdrawn transfer; ``ledger show`` lists the
replaced decision."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.ledger.conftest import transfer

CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2024-12-01",
            "mechanisms": [{"type": "standard_contract", "reference": "SC-9", "effective_on": "2026-01-05",
                            "filed_on": "2026-01-10"}]}


def test_amend_from_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    recorded, amended, other = (tmp_path / name for name in ("recorded.json", "amended.yaml", "other.json"))
    recorded.write_text(transfer("CLI-AM", 150_000).model_dump_json(), encoding="utf-8")
    amended.write_text(transfer("CLI-AM", 150_000, safeguards=CONTRACT).model_dump_json(), encoding="utf-8")
    other.write_text(transfer("CLI-AM", 150_000, purpose="direct_marketing").model_dump_json(), encoding="utf-8")
    assert runner.invoke(app, ["submit", "--db", db, str(recorded)]).exit_code == 1  # conditional

    done = runner.invoke(app, ["amend", "--db", db, "--json", "--reason", "contract filed", "CLI-AM", str(amended)])
    assert done.exit_code == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["result"], answer["replaced_outcome"], answer["outcome"]) == ("amended", "conditional", "permitted")
    assert answer["counted_personal_subjects"] == 150_000

    refused = runner.invoke(app, ["amend", "--db", db, "CLI-AM", str(other)])
    assert refused.exit_code == 3 and "purpose" in refused.stderr and "new transfer" in refused.stderr

    shown = runner.invoke(app, ["ledger", "show", "--db", db, answer["replaces"]])  # an earlier id finds it
    assert shown.exit_code == 0
    assert f"Earlier decision {answer['replaces']} (conditional" in shown.stdout
    assert f"replaced at {answer['amended_at']} by {answer['decision_id']}" in shown.stdout

    assert runner.invoke(app, ["withdraw", "--db", db, "CLI-AM"]).exit_code == 0
    withdrawn = runner.invoke(app, ["amend", "--db", db, "CLI-AM", str(amended)])
    assert withdrawn.exit_code == 3 and "withdrawn" in withdrawn.stderr
    unknown = runner.invoke(app, ["amend", "--db", db, "NO-SUCH", str(amended)])
    assert unknown.exit_code == 3 and "NO-SUCH" in unknown.stderr
    assert runner.invoke(app, ["audit", "verify", "--db", db]).exit_code == 0
