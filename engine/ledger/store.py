"""The ledger: record decisions, count what was sent, withdraw, and prove nothing was changed.

``Ledger`` is the one way in; each job lives in a module of its own:

- ``engine.ledger.ledger_database``: the database, its transactions, the signing and totals keys;
- ``engine.ledger.recording``: submissions evaluated on the ledger's counts and recorded, in groups
  (group commit), each in one transaction serialised per exporter (DESIGN section 5);
- ``engine.ledger.counting``: an exporter's counts, read from the sealed running totals;
- ``engine.ledger.lookups``: a recorded transfer by decision id or reference;
- ``engine.ledger.withdrawal``: a withdrawal, its counts released;
- ``engine.ledger.packs_in_service``: the rule packs decisions were made under;
- ``engine.ledger.lifecycle``: sealing the totals and signing the head after an upgrade;
- the audit chain's reads (verify, checkpoint) and the listings, here, each one call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, text

from engine.evaluator import Engine
from engine.facts import PriorCounts
from engine.ledger import (
    anchors,
    audit,
    chain_keys,
    database,
    lifecycle,
    listing,
    lookups,
    seal,
    signing,
    withdrawal,
)
from engine.ledger.actors import Actor
from engine.ledger.audit import AuditResult
from engine.ledger.counting import Counting
from engine.ledger.errors import DatabaseUnavailable, LedgerIntegrityError
from engine.ledger.ledger_database import LedgerDatabase, recorded_now
from engine.ledger.lookups import RecordedTransfer
from engine.ledger.packs_in_service import PacksInService
from engine.ledger.recording import Recorder, SubmitResult
from engine.ledger.schema import chain_head
from engine.ledger.signing import ChainSigner
from engine.ledger.withdrawal import WithdrawResult
from engine.models import Decision, TransferRequest


class Ledger:
    """Records and counts transfers in one database (SQLite file or PostgreSQL), given by URL.

    Safe to share between threads; several processes or replicas may use one database at once.
    """

    def __init__(self, url: str, *, upgrade: bool = True, rules_dirs: Iterable[Path | str] = (),
                 signer: ChainSigner | Literal["env"] | None = "env",
                 totals_key: seal.TotalsKey | Literal["env"] = "env") -> None:
        self.url = url
        self.db = LedgerDatabase(url, signing.load_signer() if signer == "env" else signer, totals_key)
        """The database, its transactions and keys (engine.ledger.ledger_database)."""
        self.sql_engine = self.db.sql_engine
        self.unsealed_reason: str | None = None
        """Why the running totals could not be sealed after an upgrade (their rows then refuse every
        decision until ``baygate db reseal``); None when they were, or needed no sealing."""
        self.rules_dirs = [Path(d) for d in rules_dirs]
        """Where the texts of packs first used are looked for (the service adds its snapshots)."""
        self.packs = PacksInService(self.db, self.rules_dirs)
        self.recorder = Recorder(self.db, self.packs)
        self.counting = Counting(self.db, up_to_date=False)
        if upgrade:
            database.upgrade(self.sql_engine)
            self.counting.up_to_date = True
            self.after_upgrade()

    @property
    def signer(self) -> ChainSigner | None:
        """The key that signs every head this process commits (``BAYGATE_SIGNING_KEY_FILE`` by default;
        engine.ledger.signing); None: this process writes unsigned, and is refused on a signed chain."""
        return self.db.signer

    @property
    def signer_key_id(self) -> str | None:
        return self.db.signer.key_id if self.db.signer is not None else None

    @property
    def totals_key(self) -> seal.TotalsKey:
        """The key the running totals are sealed with (engine.ledger.seal), read when first needed."""
        return self.db.totals_key

    def close(self) -> None:
        self.counting.kept.close()
        self.db.close()

    def transaction(self) -> AbstractContextManager[Connection]:
        """A writing transaction as every write of the ledger takes it (one writer at a time on SQLite;
        a lost database is DatabaseUnavailable), for writers beside it (engine.ledger.amend)."""
        return self.db.write()

    def appender(self, conn: Connection) -> chain_keys.Append:
        """Appending events one at a time in ``conn``'s transaction, each head signed (what
        ``chain_keys.prepare`` takes; for writers beside the ledger)."""
        return self.db.appender(conn)

    # ------------------------------------------------------------------ counting

    def require_up_to_date(self) -> None:
        """Raise LedgerOutOfDate unless the database is at the newest revision (what replays and diffs
        read: its indexes and record format)."""
        self.counting.statement()

    def prior_counts(self, request: TransferRequest) -> PriorCounts:
        """What the ledger recorded before this transfer for its exporter (read-only, for dry runs)."""
        return self.counting.prior_counts(request)

    def counts(self, exporter_id: str, year: int) -> dict[str, Any]:
        """The exporter's tallies for a calendar year, as ``ledger counts`` and the HTTP API print them."""
        return self.counting.counts(exporter_id, year)

    # ------------------------------------------------------------------ recording

    def submit(self, engine: Engine, request: TransferRequest, as_of: dt.date | None = None,
               actor: Actor | None = None) -> SubmitResult:
        """Evaluate with the ledger's counts and record request and decision in one transaction
        (``Recorder.submit``: the same reference with the same request is ``replayed``, with another
        a ReferenceConflict; submissions of several threads share one commit)."""
        return self.recorder.submit(engine, request, as_of, actor)

    def submit_many(self, engine: Engine, requests: Iterable[TransferRequest], as_of: dt.date | None = None,
                    actor: Actor | None = None, group: int | None = None) -> Iterator[SubmitResult | Exception]:
        """Record many transfers, each answered in order as ``submit`` would answer it
        (``Recorder.submit_many``)."""
        return self.recorder.submit_many(engine, requests, as_of, actor, group)

    def compact_record(self, conn: Connection, request_json: str, decision: Decision, decision_json: str) -> bytes:
        """The stored form of one transfer's texts written in ``conn``'s transaction (for writers beside
        the ledger, e.g. amendments; ``Recorder.compact_record``)."""
        return self.recorder.compact_record(conn, request_json, decision, decision_json)

    def store_packs(self, engine: Engine, actor: Actor | None = None) -> list[str]:
        """Put the engine's pack set in service (``PacksInService.put_in_service``). Called at service
        start, on reload and by ``baygate submit``; returns the digests stored."""
        return self.packs.put_in_service(engine, actor)

    # ------------------------------------------------------------------ lifecycle

    def after_upgrade(self, actor: Actor | None = None) -> None:
        """What a writing process does once the schema is current, before it records anything: read the
        totals key (an unusable key file is refused now, exit 3, not at the first submission), seal
        the totals if an upgrade left them unsealed (``seal_totals``; when the chain does not account
        for them they stay unsealed, every decision refuses them, and ``unsealed_reason`` says why),
        and sign the head (``sign_the_head``)."""
        self.totals_key  # noqa: B018 -- loaded (or created) here, see above
        try:
            self.seal_totals(only_unsealed=True)
        except LedgerIntegrityError as exc:
            self.unsealed_reason = str(exc)
        self.sign_the_head(actor)

    def seal_totals(self, only_unsealed: bool = False) -> int:
        """Seal every running-totals row, once the chain accounts for them (``lifecycle.seal_totals``)."""
        return lifecycle.seal_totals(self.db, only_unsealed)

    def sign_the_head(self, actor: Actor | None = None) -> None:
        """Announce this process's signing key and sign the head (``lifecycle.sign_the_head``)."""
        lifecycle.sign_the_head(self.db, actor)

    # ------------------------------------------------------------------ withdraw, get

    def find_in(self, conn: Connection, id_or_reference: str, exporter_id: str | None = None) -> Any:
        """The transfer row in force under a decision id (of any of its versions) or a reference."""
        return lookups.find(conn, id_or_reference, exporter_id)

    def withdraw(self, id_or_reference: str, exporter_id: str | None = None,
                 actor: Actor | None = None) -> WithdrawResult:
        """Withdraw a recorded transfer, its counts released (``withdrawal.withdraw``)."""
        return withdrawal.withdraw(self.db, id_or_reference, exporter_id, actor)

    def get(self, id_or_reference: str, exporter_id: str | None = None) -> RecordedTransfer:
        """A recorded transfer by decision id or reference (with the exporter id when ambiguous)."""
        return lookups.recorded_transfer(self.db, id_or_reference, exporter_id)

    def pack_content(self, digest: str) -> str:
        """The stored YAML text of a pack, by the digest a decision's ``rules`` names (for replays)."""
        return lookups.pack_content(self.db, digest)

    def list_transfers(self, query: listing.TransferQuery) -> listing.TransferPage:
        """A page of recorded transfers, newest first, filtered (engine.ledger.listing)."""
        with self.db.read() as conn:
            return listing.transfer_page(conn, query)

    def decisions_after(self, after: int = 0, limit: int = 500) -> list[listing.LoggedDecision]:
        """Recorded decisions after chain position ``after``, oldest first (the decision log)."""
        with self.db.read() as conn:
            return listing.decisions_after(conn, after, limit)

    # ------------------------------------------------------------------ audit, health

    def verify(self, checkpoints: Sequence[anchors.Checkpoint] = (),
               public_keys: Mapping[str, signing.PublicKey] | None = None,
               progress: Callable[[int], None] | None = None) -> AuditResult:
        """Walk the audit chain; names the first event edited, deleted, inserted or reordered. A stream
        (``engine.ledger.verify``); ``progress`` is told the number of events checked so far. Then the
        anchors: each checkpoint must still hold, every signature verify (engine.ledger.anchors)."""
        with self.db.read(snapshot=True) as conn:
            return audit.verify(conn, checkpoints, public_keys, progress)

    def checkpoint(self) -> anchors.Checkpoint:
        """The chain's head now, for an auditor to keep elsewhere (``audit checkpoint``)."""
        with self.db.read(snapshot=True) as conn:
            return anchors.take_checkpoint(conn, recorded_now())

    def chain_length(self) -> int:
        """The number of events in the audit chain (its head), for progress."""
        with self.db.read() as conn:
            return int(conn.execute(text(f"SELECT seq FROM {chain_head.name} WHERE id = 1")).scalar() or 0)

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers and can take writes (for /readyz: a
        PostgreSQL standby or a server put in read-only mode answers SELECT 1 but refuses every
        submission)."""
        try:
            with self.sql_engine.connect() as conn:
                if database.is_postgres(conn):
                    read_only = conn.execute(text("SELECT current_setting('transaction_read_only')")).scalar()
                    if read_only == "on":
                        raise DatabaseUnavailable("database unavailable: it is read-only (a standby, or "
                                                  "default_transaction_read_only): submissions cannot be recorded")
                else:
                    conn.execute(text("SELECT 1"))
        except Exception as exc:
            if isinstance(exc, DatabaseUnavailable):
                raise
            raise database.unavailable(exc) from exc

