"""The rule packs a ledger's decisions were made under: each pack's text stored once, with its audit
event, the first time a decision uses it; and the pack set in service, recorded with who put it there,
so that as-of evaluation follows reloads and rollbacks and the chain says who changed the rules."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from engine.evaluator import Engine
from engine.ledger import audit, chain_keys
from engine.ledger.actors import Actor, local_user
from engine.ledger.audit import sha256
from engine.ledger.ledger_database import LedgerDatabase, recorded_now
from engine.ledger.packs import pack_text
from engine.ledger.schema import pack_sets, packs

PackTexts = Mapping[str, tuple[Any, str]]
"""Pack digest -> (the pack, its YAML text as loaded)."""


class PacksInService:
    """What this process knows the database holds of its packs, and the pack set it last put in service."""

    def __init__(self, db: LedgerDatabase, rules_dirs: list[Path]) -> None:
        self.db = db
        self.rules_dirs = rules_dirs
        """Where pack texts are looked for: the ledger's own list, which the service extends on reload."""
        self._stored: set[str] = set()
        self._in_service: str | None = None
        """Digest of the pack set this process last put in service (see put_in_service)."""

    def remember(self, digests: Iterable[str]) -> None:
        """These packs are in the database now (their transaction committed)."""
        self._stored.update(digests)

    def texts_to_store(self, engine: Engine) -> dict[str, tuple[Any, str]]:
        """Texts of the packs the database does not hold yet, read before the transaction: finding and
        parsing a pack file costs tenths of a second, which must not be spent holding the locks."""
        unknown = [pack for pack in engine.pack_set.packs if pack.digest not in self._stored]
        if not unknown:
            return {}
        with self.db.read() as conn:
            present = set(conn.execute(select(packs.c.digest).where(
                packs.c.digest.in_([pack.digest for pack in unknown]))).scalars())
        self._stored.update(present)
        return {pack.digest: (pack, pack_text(pack, self.rules_dirs))
                for pack in unknown if pack.digest not in present}

    def store(self, conn: Connection, texts: PackTexts, now: str, actor: Actor,
              chain: audit.ChainWriter | None = None) -> list[str]:
        """Store each pack first used now, with its event; called holding the chain lock. Returns the
        digests written (``remember`` them once the transaction commits)."""
        if not texts:
            return []
        present = set(conn.execute(select(packs.c.digest).where(packs.c.digest.in_(list(texts)))).scalars())
        for digest, (pack, content) in texts.items():
            if digest in present:
                continue
            event = {"name": pack.name, "version": pack.version, "file": pack.file,
                     "content_sha256": sha256(content), **actor.fields()}
            seq = (chain.append("pack", digest, now, event) if chain is not None
                   else audit.append_event(conn, "pack", digest, now, event, self.db.signer))
            conn.execute(insert(packs).values(digest=digest, name=pack.name, version=pack.version,
                                              file=pack.file, content=content, first_used_at=now,
                                              event_seq=seq))
        return list(texts)

    def put_in_service(self, engine: Engine, actor: Actor | None = None) -> list[str]:
        """Put the engine's pack set in service: store the texts of its packs the ledger does not hold
        yet (with their audit events) and, when the set differs from the last one in service, record
        the set and the moment (``pack_sets``) with a ``pack_set`` event naming ``actor`` (who reloaded,
        or the service at start-up). Returns the digests stored."""
        texts = self.texts_to_store(engine)
        if not texts and self._in_service == engine.digest:
            return []
        actor = actor or local_user()
        db = self.db
        with db.write() as conn:
            audit.lock_chain(conn)
            now = recorded_now()
            chain_keys.prepare(conn, db.appender(conn), db.signer, chain_keys.latest_key(conn), actor, now)
            stored = self.store(conn, texts, now, actor) if texts else []
            latest = conn.execute(select(pack_sets.c.set_digest).order_by(pack_sets.c.seq.desc()).limit(1)).scalar()
            if latest != engine.digest:
                members = sorted([pack.name, pack.digest] for pack in engine.pack_set.packs)
                seq = audit.append_event(conn, "pack_set", engine.digest, now, {"members": members, **actor.fields()},
                                         db.signer)
                conn.execute(insert(pack_sets).values(set_digest=engine.digest, members=json.dumps(members),
                                                      started_at=now, event_seq=seq))
        self._stored.update(stored)
        self._in_service = engine.digest
        return stored
