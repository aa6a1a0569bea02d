"""The ledger's commands (DESIGN section 6): ``submit``, ``withdraw``, ``ledger show|counts``,
``db upgrade|reseal``, and the helpers other ledger commands share (``open_ledger``,
``open_existing_ledger``, ``cli_actor``). Registered in api/cli/__init__.py.

Exit status as ``evaluate``: 0 permitted, 1 conditional, 2 prohibited (the strongest), 3 bad input,
including a reference already recorded for a different request or withdrawn (HTTP 409) and an
unknown id (404); a list is submitted item by item, each result printed (``api.results``);
4 when it could not finish (an unreachable database: 503), each with its message on stderr.
``audit verify``: 0 intact, 1 tampered (naming the first bad event), 3 no ledger there or not a
baygate ledger (never created), 4 could not finish.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Annotated, Any

import typer

from api.cli.common import (
    AsOfOption,
    DbOption,
    FilesArgument,
    JsonOption,
    LangOption,
    RulesOption,
    check_lang,
    load_engine,
    parse_as_of,
)
from api.exits import fail, fail_on
from api.heap import settle_after_start_up
from api.render import summary
from api.results import ItemResult, ResultPrinter
from api.sources import Source, read_sources, single_request
from engine.config import database_url, rules_directory, safe_url
from engine.errors import InputError
from engine.evaluator import Engine
from engine.ledger import (
    AmbiguousReference,
    Ledger,
    LedgerError,
    ReferenceConflict,
    SubmitResult,
    TransferWithdrawn,
)
from engine.ledger.actors import Actor, check_reason, local_user
from engine.ledger.database import current_revision, head_revision, in_memory
from engine.ledger.id_variants import counting_apart_note, report
from engine.ledger.presence import require_ledger
from engine.ledger.recording import BULK_GROUP

ExporterOption = Annotated[str | None, typer.Option("--exporter", help="Exporter id, when a reference is used "
                                                    "by several exporters.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (recorded in the audit chain with the "
                                                  "event, beside the actor: this command acts as the local "
                                                  "operating-system user, user:LOGIN).")]


def cli_actor(reason: str | None) -> Actor:
    """The command line acts as the operating-system user running it, with the ``--reason`` given."""
    try:
        return local_user(check_reason(reason, "--reason"))
    except InputError as exc:
        fail(str(exc))


def open_ledger(db: str | None, rules: str | None = None) -> Ledger:
    """The ledger at ``--db`` (or the configured one), created or upgraded as needed; never an in-memory
    database, whose records would be gone when the command ends (it would say "recorded" and keep nothing)."""
    url = database_url(db)
    if in_memory(url):
        fail(f"{safe_url(url)} is an in-memory database: nothing recorded there would be kept, and it holds "
             "no ledger to read; give a file (sqlite:///baygate.db) or a PostgreSQL URL")
    try:
        return Ledger(url, rules_dirs=[rules_directory(rules)])
    except LedgerError as exc:
        fail_on(exc, safe_url(database_url(db)))


def submit(
    files: FilesArgument,
    as_json: JsonOption = False,
    lang: LangOption = None,
    as_of: AsOfOption = None,
    rules: RulesOption = None,
    db: DbOption = None,
    reason: ReasonOption = None,
) -> None:
    """Decide transfers and record them in the ledger (the reference is the idempotency key). Recorded
    as done by the local operating-system user (user:LOGIN), with --reason if given."""
    actor = cli_actor(reason)
    chosen = check_lang(lang)
    day = parse_as_of(as_of)
    sources = read_sources(files)
    from api.cli.lifecycle import engine_for_day

    engine = engine_for_day(load_engine(rules), day, db)
    ledger = open_ledger(db, rules)
    if day is None:
        # Deciding with the current packs puts them in service: as-of evaluation reads that record.
        try:
            ledger.store_packs(engine, actor)
        except LedgerError as exc:
            fail_on(exc, safe_url(database_url(db)))
    single = single_request(sources)
    printer = ResultPrinter(as_json, chosen, single)
    if not single:
        settle_after_start_up()  # a list file makes many objects a group long (api.heap); not worth it for one
    for source in sources:
        if source.error is not None:
            printer.add(ItemResult.refused(source.name, None, source.error))
            continue
        for chunk in _chunks(enumerate(source.entries()), BULK_GROUP):
            _submit_chunk(ledger, engine, source, chunk, printer, day, actor)
    printer.close()
    raise typer.Exit(printer.exit_status())


def _chunks(items: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _submit_chunk(ledger: Ledger, engine: Engine, source: Source, chunk: list[tuple[int, Any]],
                  printer: ResultPrinter, day: dt.date | None, actor: Actor) -> None:
    """Record a chunk of a file's items as one group (``Ledger.submit_many``: one transaction, each
    decided on the counts the ones before it left, as one by one) and print each result in order: a
    list file of any size is recorded in groups, its results printed as each group commits, and memory
    holds one group (issue 21 point 6)."""
    valid = [item for _position, item in chunk if not isinstance(item, InputError)]
    outcomes = ledger.submit_many(engine, valid, as_of=day, actor=actor) if valid else iter(())
    for position, item in chunk:
        index = source.index(position)
        if isinstance(item, InputError):
            printer.add(ItemResult.refused(source.name, index, item))
            continue
        try:
            outcome = next(outcomes)
        except LedgerError as exc:  # could not finish: the groups recorded before are printed above
            printer.close()
            fail_on(exc, source.name if index is None else f"{source.name}[{index}]")
        if isinstance(outcome, (ReferenceConflict, AmbiguousReference)):
            printer.add(ItemResult.refused(source.name, index, outcome))
        elif isinstance(outcome, Exception):
            printer.close()
            if isinstance(outcome, LedgerError):
                fail_on(outcome, source.name if index is None else f"{source.name}[{index}]")
            raise outcome
        else:
            printer.add(submit_result(source.name, index, outcome))


def submit_result(source: str, index: int | None, result: SubmitResult) -> ItemResult:
    """A submission's result: recorded, already recorded, or refused when its transfer was withdrawn
    since (answering the recorded decision would read as if it still stood and counted)."""
    if result.withdrawn_at is not None:
        decision = result.decision
        return ItemResult.refused(source, index, TransferWithdrawn(decision.reference, decision.decision_id,
                                                                   result.withdrawn_at),
                                  decision_id=decision.decision_id, withdrawn_at=result.withdrawn_at)
    return ItemResult(source, index, "already_recorded" if result.replayed else "recorded", result.decision)


def withdraw(
    transfer_id: Annotated[str, typer.Argument(metavar="ID", help="Decision id or reference.")],
    exporter: ExporterOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
    reason: ReasonOption = None,
) -> None:
    """Withdraw a recorded transfer: its counts are released and the withdrawal is recorded, as done by
    the local operating-system user (user:LOGIN), with --reason if given."""
    actor = cli_actor(reason)
    ledger = open_ledger(db)
    try:
        result = ledger.withdraw(transfer_id, exporter, actor=actor)
    except LedgerError as exc:
        fail_on(exc)
    if as_json:
        typer.echo(json.dumps(result.__dict__, ensure_ascii=False, indent=2))
        return
    state = "was already withdrawn" if result.already_withdrawn else "withdrawn"
    typer.echo(f"{result.reference} ({result.decision_id}, exporter {result.exporter_id}) {state} at "
               f"{result.withdrawn_at}; released {result.released_personal_subjects} personal and "
               f"{result.released_sensitive_subjects} sensitive subjects")
    counted = (result.counted_personal_subjects, result.counted_sensitive_subjects)
    if not result.already_withdrawn and counted != (result.released_personal_subjects,
                                                    result.released_sensitive_subjects):
        typer.echo(f"  it had counted {counted[0]} personal and {counted[1]} sensitive when recorded; it releases "
                   "what the year's tally would lack had it never been recorded (a transfer of a population "
                   "counts only its increase over the largest figure sent before it)")


def ledger_show(
    transfer_id: Annotated[str, typer.Argument(metavar="ID", help="Decision id or reference.")],
    exporter: ExporterOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
    db: DbOption = None,
) -> None:
    """Print a recorded transfer: its state, its request (with --json) and its latest decision, with the
    decisions amendments replaced."""
    chosen = check_lang(lang)
    ledger = open_ledger(db)
    try:
        recorded = ledger.get(transfer_id, exporter)
    except LedgerError as exc:
        fail_on(exc)
    if as_json:
        payload: dict[str, Any] = {
            "decision_id": recorded.decision.decision_id, "reference": recorded.decision.reference,
            "exporter": recorded.exporter_id, "recorded_at": recorded.recorded_at,
            "withdrawn": recorded.withdrawn, "withdrawn_at": recorded.withdrawn_at,
            "counted": recorded.counted, "event": recorded.event_seq,
            "recorded_by": recorded.recorded_by, "reason": recorded.reason,
            "withdrawn_by": recorded.withdrawn_by, "withdrawal_reason": recorded.withdrawal_reason,
            "replaces": recorded.replaces, "history": [old.as_dict() for old in recorded.replaced],
            "request": recorded.request.model_dump(mode="json"),
            "decision": recorded.decision.model_dump(mode="json"),
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    state = f"withdrawn {recorded.withdrawn_at}" if recorded.withdrawn else "in force"
    counted = "counted" if recorded.counted else "not counted"
    typer.echo(f"Recorded {recorded.recorded_at} (event {recorded.event_seq}), exporter {recorded.exporter_id}, "
               f"{state}, {counted}")
    typer.echo(f"Recorded by {_who(recorded.recorded_by, recorded.reason)}")
    if recorded.withdrawn:
        typer.echo(f"Withdrawn by {_who(recorded.withdrawn_by, recorded.withdrawal_reason)}")
    for old in recorded.replaced:  # the decisions amendments replaced, oldest first
        typer.echo(f"Earlier decision {old.decision_id} ({old.outcome}, recorded {old.recorded_at} by "
                   f"{old.recorded_by or '(not recorded)'}), replaced at {old.replaced_at} by {old.replaced_by}")
    typer.echo(summary(recorded.decision, chosen, recorded.decision.decision_id))


def _who(actor: str | None, reason: str | None) -> str:
    who = actor or "(not recorded: written before actors were)"
    return f"{who}, reason: {reason}" if reason else f"{who}, no reason given"


def ledger_counts(
    exporter: Annotated[str, typer.Argument(help="Exporter id.")],
    year: Annotated[int | None, typer.Option("--year", help="Calendar year (default: this year).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Print an exporter's tallies for a year: subjects of counted, permitted, not withdrawn transfers."""
    chosen_year = year if year is not None else dt.date.today().year
    ledger = open_ledger(db)
    try:
        counts = ledger.counts(exporter, chosen_year)
    except LedgerError as exc:
        fail_on(exc)
    if as_json:
        typer.echo(json.dumps(counts, ensure_ascii=False))
        return
    typer.echo(f"{exporter} {chosen_year}: {counts['personal_subjects']} personal subjects, "
               f"{counts['sensitive_subjects']} sensitive subjects")


def ledger_id_variants(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List the exporter ids recorded in this ledger that now read as one (party ids are canonicalised:
    NFKC, trimmed, upper case; docs/request.md), the (exporter, reference) pairs that collide under the
    canonical form, and the recorded decisions whose counts would have differed. Read only: records keep
    the ids they were recorded with."""
    ledger = open_existing_ledger(db)
    try:
        with ledger.sql_engine.connect() as conn:
            found = report(conn)
    except LedgerError as exc:
        fail_on(exc)
    finally:
        ledger.close()
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(found), ensure_ascii=False))
        return
    if not found.groups and not found.refused:
        typer.echo("no exporter ids that read as one: every recorded exporter id is in its canonical form")
    for group in found.groups:
        typer.echo(f"{group.canonical}: recorded as {', '.join(repr(i) for i in group.ids)} ({group.transfers} "
                   "transfers)")
        for name, seq in sorted(group.merged.items()):
            typer.echo(f"  {name!r} counts as {group.canonical} since event {seq} (baygate ledger merge-ids)")
        if group.pending:
            typer.echo(f"  counting apart until merged: {', '.join(repr(i) for i in group.pending)} "
                       "(baygate ledger merge-ids)")
        for name, why in sorted(group.notes.items()):
            typer.echo(f"  {name!r} reads as {group.canonical} with {why}")
        for reference, decisions in group.collisions:
            typer.echo(f"  reference {reference!r} recorded under several of them: {', '.join(decisions)}")
        for item in group.affected:
            typer.echo(f"  decision {item.decision_id} ({item.reference!r}, {item.exporter_id!r}, {item.year}): the "
                       f"other ids had counted {item.other_personal_subjects} personal and "
                       f"{item.other_sensitive_subjects} sensitive subjects it did not see")
    for recorded, why in found.refused:
        typer.echo(f"{recorded!r}: would be refused now: {why}")


def open_existing_ledger(db: str | None) -> Ledger:
    """The ledger at ``--db``, read as it stands: exit 3 when there is none or it is not a baygate ledger
    at the newest revision (nothing is created or upgraded), 4 when the database cannot be asked."""
    url = database_url(db)
    try:
        revision = require_ledger(url)
        if revision != head_revision():
            fail(f"{safe_url(url)}: the ledger is at schema revision {revision}; this version reads revision "
                 f"{head_revision()}: upgrade it (or a copy of it) with `baygate db upgrade` first")
        return Ledger(url, upgrade=False)
    except LedgerError as exc:
        fail_on(exc, safe_url(url))


def db_reseal(db: DbOption = None) -> None:
    """Seal the running totals again with this process's totals key (BAYGATE_TOTALS_KEY_FILE), after a
    change of key or an upgrade that could not seal them: only once the audit chain is found to
    account for every total (as `audit verify` checks), else exit 4 naming the difference. Never
    creates or upgrades a ledger (exit 3 when there is none at the newest revision)."""
    ledger = open_existing_ledger(db)
    try:
        sealed = ledger.seal_totals()
    except LedgerError as exc:
        fail_on(exc, safe_url(ledger.url))
    finally:
        ledger.close()
    typer.echo(f"{safe_url(ledger.url)}: running totals of {sealed} exporter-year(s) sealed with totals key "
               f"{ledger.totals_key.key_id}")


def db_upgrade(db: DbOption = None) -> None:
    """Create the ledger's tables, or upgrade them to the newest revision."""
    ledger = open_ledger(db)
    with ledger.sql_engine.connect() as conn:
        revision = current_revision(conn)
        apart = counting_apart_note(conn)
    state = "(newest)" if revision == head_revision() else f"(newest is {head_revision()})"
    typer.echo(f"{safe_url(ledger.url)}: schema at revision {revision} {state}")
    if apart:
        typer.echo(f"note: {apart}")
