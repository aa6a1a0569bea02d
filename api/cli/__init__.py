"""The ``baygate`` command line (DESIGN section 6), and the one place where its commands are registered.

Each command group lives in a module of its own, which defines the commands as plain functions and
imports nothing of this package but :mod:`api.cli.common` (the options several commands share) and,
for the ledger's helpers, :mod:`api.cli.ledger`; no module imports the app, so none can import another
in a circle (tests/house/test_imports.py). This module builds the app and registers every command:

====================  ==========================================================
module                commands
====================  ==========================================================
``evaluate``          ``evaluate`` (a dry run)
``ledger``            ``submit``, ``withdraw``, ``ledger show|counts|id-variants``, ``db upgrade|reseal``
``ledger_reads``      ``ledger list|export``
``merge_ids``         ``ledger merge-ids``
``amend``             ``amend``
``rules``             ``rules validate|list|coverage``, ``facts``
``lifecycle``         ``rules diff``, ``audit replay`` (replaying the ledger)
``audit``             ``audit verify|checkpoint``
``spec``, ``contract``  ``test``; ``schema``, ``init``
``serve``, ``bench``  ``serve``; ``bench``
====================  ==========================================================

Exit status: 0 permitted, 1 conditional, 2 prohibited (the strongest of several), 3 bad input or a
usage error (the error on stderr, naming file and field), 4 could not finish (a one-line reason on
stderr); never a traceback: :class:`api.exits.GuardedGroup`, the app's group, maps every ending.
"""

from __future__ import annotations

import typer

from api.cli import (
    amend,
    audit,
    bench,
    contract,
    evaluate,
    ledger,
    ledger_reads,
    lifecycle,
    merge_ids,
    rules,
    serve,
    spec,
)
from api.exits import EXIT_BAD_INPUT, EXIT_BY_OUTCOME, GuardedGroup, fail, fail_on

app = typer.Typer(help="Decide cross-border data transfers between Shenzhen and Hong Kong.", cls=GuardedGroup,
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
rules_app = typer.Typer(help="Validate and list rule packs.", no_args_is_help=True)
ledger_app = typer.Typer(help="Show recorded transfers and the exporters' counts.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the audit chain.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the ledger's database.", no_args_is_help=True)

app.command("evaluate")(evaluate.evaluate)
app.command("facts")(rules.facts)
app.command("submit")(ledger.submit)
app.command("withdraw")(ledger.withdraw)
app.command("amend")(amend.amend)
app.command("test")(spec.test)
app.command("schema")(contract.schema)
app.command("init")(contract.init)
app.command("bench")(bench.bench)
app.command("serve")(serve.serve)

app.add_typer(rules_app, name="rules")
rules_app.command("validate")(rules.rules_validate)
rules_app.command("list")(rules.rules_list)
rules_app.command("coverage")(rules.rules_coverage)
rules_app.command("diff")(lifecycle.rules_diff)

app.add_typer(ledger_app, name="ledger")
ledger_app.command("show")(ledger.ledger_show)
ledger_app.command("counts")(ledger.ledger_counts)
ledger_app.command("list")(ledger_reads.ledger_list)
ledger_app.command("export")(ledger_reads.ledger_export)
ledger_app.command("id-variants")(ledger.ledger_id_variants)
ledger_app.command("merge-ids")(merge_ids.ledger_merge_ids)

app.add_typer(audit_app, name="audit")
audit_app.command("verify")(audit.audit_verify)
audit_app.command("checkpoint")(audit.audit_checkpoint)
audit_app.command("replay")(lifecycle.audit_replay)

app.add_typer(db_app, name="db")
db_app.command("upgrade")(ledger.db_upgrade)
db_app.command("reseal")(ledger.db_reseal)


def main() -> None:
    """The ``baygate`` entry point: the app's GuardedGroup maps every ending to its exit status."""
    app()


__all__ = ["EXIT_BAD_INPUT", "EXIT_BY_OUTCOME", "app", "fail", "fail_on", "main"]
