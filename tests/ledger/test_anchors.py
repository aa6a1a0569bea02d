"""Anchors outside the database (issue 19 points 1 and 6), played as the insider on both backends: the
attacks ``audit verify`` alone cannot see (the chain re-hashed after a deletion, the newest events
dropped with the head moved back, a rewrite keeping the chain's length) are caught by the signatures of
the committed heads, with no checkpoint, or by a checkpoint kept elsewhere, with no key; what each
cannot catch is shown too."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, text

from engine.evaluator import Engine
from engine.ledger import Ledger, LedgerIntegrityError
from engine.ledger.anchors import Checkpoint
from engine.ledger.signing import (
    ChainSigner,
    PublicKey,
    SigningKeyError,
    SigningKeyRequired,
    load_public_keys,
    load_signer,
)
from tests.ledger.conftest import transfer
from tests.ledger.insider import (
    Event,
    delete_transfer_and_rehash,
    drop_newest_and_move_head,
    reseal_as_key_holder,
    rewrite_chain,
    scalar,
    sql,
)


def make_key(folder: Path, name: str) -> tuple[Path, Path]:
    """An Ed25519 key pair as openssl writes them: the private key (0600) and the public key, PEM."""
    private = Ed25519PrivateKey.generate()
    private_file, public_file = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    private_file.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    os.chmod(private_file, 0o600)
    public_file.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_file, public_file


def signer_of(private_file: Path) -> ChainSigner:
    signer = load_signer({"BAYGATE_SIGNING_KEY_FILE": str(private_file)})
    assert signer is not None
    return signer


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    return {name: make_key(tmp_path, name) for name in ("first", "second", "insider")}


CONTRACT = {"separate_consent": True, "notice_given": True, "pia_completed_on": "2025-12-01",
            "mechanisms": [{"type": "standard_contract", "reference": "SC-2026-1", "effective_on": "2026-01-05",
                            "filed_on": "2026-01-10"}]}


@pytest.fixture
def signed(ledger_url: str, ledger_engine: Engine, keys: dict[str, tuple[Path, Path]]) -> Iterator[Ledger]:
    """A ledger signed from its first event: five permitted submissions under a standard contract (one of
    500,001 individuals), one withdrawn: 531,001 counted."""
    store = Ledger(ledger_url, signer=signer_of(keys["first"][0]))
    for reference, subjects in (("S-1", 10_000), ("S-2", 500_001), ("S-3", 20_000), ("S-4", 30_000),
                                ("S-5", 1_000)):
        assert store.submit(ledger_engine, transfer(reference, subjects, safeguards=CONTRACT)).decision.outcome \
            == "permitted"
    store.withdraw("S-4")
    try:
        yield store
    finally:
        store.close()


def given(keys: dict[str, tuple[Path, Path]], *names: str) -> dict[str, PublicKey]:
    return load_public_keys([keys[name][1] for name in names])


def events(ledger: Ledger) -> int:
    return int(scalar(ledger, "SELECT max(seq) FROM events"))


def test_every_committed_head_is_signed_and_verifies_under_the_public_key(
        signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    with signed.sql_engine.connect() as conn:
        heads = {int(seq) for (seq,) in conn.execute(text("SELECT seq FROM chain_signatures"))}
    newest = events(signed)
    assert newest in heads
    transfers = [signed.get(f"S-{n}").event_seq for n in range(1, 6)]
    assert set(transfers) <= heads  # one submission a group here: each committed alone, each signed
    result = signed.verify(public_keys=given(keys, "first"))
    assert result.ok, result.problem
    assert any(note.startswith("key ") and f"to {newest}" in note for note in result.notes)
    assert not any("written before any signing key" in note for note in result.notes)


def test_deleting_a_submission_and_rehashing_is_caught_by_the_signatures_alone(
        signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    """The issue's first attack: the 500,001 individuals gone, every hash right again."""
    exporter = signed.get("S-2").exporter_id
    deleted_at = signed.get("S-2").event_seq
    assert signed.counts(exporter, 2026)["personal_subjects"] == 531_001
    delete_transfer_and_rehash(signed, "S-2")
    with pytest.raises(LedgerIntegrityError):  # without the totals key the edited total is refused at once
        signed.counts(exporter, 2026)
    reseal_as_key_holder(signed)  # with it (on the service's host, not holding the signing key)...
    assert signed.counts(exporter, 2026)["personal_subjects"] == 10_000 + 20_000 + 1_000
    assert signed.verify(public_keys=None).ok is False  # the chain's own keys: the stored heads differ
    result = signed.verify(public_keys=given(keys, "first"))
    assert not result.ok and result.first_bad == deleted_at
    assert result.problem == (f"event {deleted_at}: its hash is not the one that was signed: the chain was "
                              "rewritten up to there")


def test_rehashing_and_replacing_the_signed_hashes_is_caught_by_the_signatures(
        signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    """The careful insider also writes the new hashes into the signature rows: no key, no signature."""
    delete_transfer_and_rehash(signed, "S-2")
    with signed.sql_engine.begin() as conn:
        conn.execute(text("DELETE FROM chain_signatures WHERE seq > (SELECT max(seq) FROM events)"))
        conn.execute(text("UPDATE chain_signatures SET hash = (SELECT hash FROM events e "
                          "WHERE e.seq = chain_signatures.seq)"))
    result = signed.verify(public_keys=given(keys, "first"))
    assert not result.ok
    assert "its signature does not verify under key" in (result.problem or "")


def test_an_insider_who_re_signs_with_a_key_of_their_own_is_caught_by_the_auditors_key(
        signed: Ledger, keys: dict[str, tuple[Path, Path]], ledger_engine: Engine) -> None:
    """Re-hash, drop every signature and announcement, then write as a ledger signed by the insider's
    key: consistent with itself (verify without --public-key accepts it and says what that is worth),
    refused under the auditor's key."""
    delete_transfer_and_rehash(signed, "S-2")

    def without_announcements(conn: Connection, chain: list[Event]) -> list[Event]:
        conn.execute(text("DELETE FROM chain_signatures"))
        conn.execute(text("DELETE FROM chain_signing_keys"))
        return [event for event in chain if event["kind"] != "signing_key"]

    rewrite_chain(signed, without_announcements)
    forged = Ledger(signed.url, signer=signer_of(keys["insider"][0]))  # announces and signs the head
    try:
        alone = forged.verify()
        assert alone.ok, alone.problem
        assert any("keys the chain itself announces" in note for note in alone.notes)
        result = forged.verify(public_keys=given(keys, "first"))
        assert not result.ok
        assert "which is none of the public keys given" in (result.problem or "")
    finally:
        forged.close()


def test_a_chain_stripped_of_every_signature_fails_under_a_given_key(
        signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    def stripped(conn: Connection, chain: list[Event]) -> list[Event]:
        conn.execute(text("DELETE FROM chain_signatures"))
        conn.execute(text("DELETE FROM chain_signing_keys"))
        return [event for event in chain if event["kind"] != "signing_key"]

    rewrite_chain(signed, stripped)
    assert signed.verify().ok  # an unsigned ledger as far as the chain can tell
    result = signed.verify(public_keys=given(keys, "first"))
    assert not result.ok
    assert result.problem == ("no head of the chain is signed by a given key: it was written without a signing "
                              "key, or rewritten without the signatures")


def test_dropping_the_newest_events_is_caught_by_their_signature_left_behind(
        signed: Ledger, keys: dict[str, tuple[Path, Path]], ledger_engine: Engine) -> None:
    """The issue's second attack, done carelessly: the signature of the dropped head is still there."""
    signed.submit(ledger_engine, transfer("S-6", 40_000))
    newest = events(signed)
    drop_newest_and_move_head(signed, "S-6")
    result = signed.verify(public_keys=given(keys, "first"))
    assert not result.ok and result.first_bad == newest
    assert "was signed, but the chain ends at event" in (result.problem or "")


def test_a_truncation_to_an_earlier_signed_head_passes_the_signatures_and_fails_the_checkpoint(
        signed: Ledger, keys: dict[str, tuple[Path, Path]], ledger_engine: Engine) -> None:
    """What signatures cannot catch (and the docs say so): the head moved back to one that was signed,
    its signature row deleted too. A checkpoint taken before does."""
    signed.submit(ledger_engine, transfer("S-6", 40_000))
    kept = signed.checkpoint()
    drop_newest_and_move_head(signed, "S-6")
    sql(signed, "DELETE FROM chain_signatures WHERE seq > (SELECT max(seq) FROM events)")
    assert signed.verify(public_keys=given(keys, "first")).ok  # the limit of signatures
    result = signed.verify([kept], given(keys, "first"))
    assert not result.ok and result.first_bad == f"event {kept.seq}"
    assert f"records event {kept.seq}, but the chain ends at event {kept.seq - 1}: truncated, or rolled back" in (
        result.problem or "")


def test_a_rewrite_keeping_the_chains_length_is_caught_by_either_anchor(
        signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    """S-2's 500,001 individuals made 1, in its row, its event and the totals; the chain re-hashed."""
    kept = signed.checkpoint()
    length = events(signed)
    decision_id = signed.get("S-2").decision.decision_id
    at = signed.get("S-2").event_seq

    def edit(conn: Connection, chain: list[Event]) -> list[Event]:
        conn.execute(text("UPDATE transfers SET personal_subjects = 1 WHERE decision_id = :d"), {"d": decision_id})
        conn.execute(text("UPDATE exporter_year_totals SET personal_subjects = personal_subjects - 500000"))
        for event in chain:
            if event["subject"] == decision_id:
                event["data"]["personal_subjects"] = 1
        return chain

    rewrite_chain(signed, edit)
    assert events(signed) == length
    assert signed.verify(public_keys=None).ok is False
    by_key = signed.verify(public_keys=given(keys, "first"))
    assert not by_key.ok and by_key.first_bad == at
    by_checkpoint = signed.verify([kept])  # checkpoints are checked before the signatures
    assert not by_checkpoint.ok and by_checkpoint.first_bad == kept.seq
    assert "its hash is not the one checkpoint" in (by_checkpoint.problem or "")


def test_a_rollback_to_an_older_copy_is_caught_by_a_later_checkpoint(tmp_path: Path, ledger_engine: Engine,
                                                                      keys: dict[str, tuple[Path, Path]]) -> None:
    db = tmp_path / "ledger.db"
    ledger = Ledger(f"sqlite:///{db}", signer=signer_of(keys["first"][0]))
    ledger.submit(ledger_engine, transfer("R-1", 600_000))
    ledger.close()
    backup = (tmp_path / "backup.db")
    backup.write_bytes(db.read_bytes())
    ledger = Ledger(f"sqlite:///{db}", signer=signer_of(keys["first"][0]))
    ledger.submit(ledger_engine, transfer("R-2", 500_000))
    kept = ledger.checkpoint()
    ledger.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(backup.read_bytes())
    restored = Ledger(f"sqlite:///{db}", signer=signer_of(keys["first"][0]))
    try:
        assert restored.verify(public_keys=given(keys, "first")).ok  # a restored backup was signed too
        result = restored.verify([kept], given(keys, "first"))
        assert not result.ok and "truncated, or rolled back to an older copy" in (result.problem or "")
    finally:
        restored.close()


def test_an_unsigned_tail_appended_by_someone_without_the_key_is_named(
        signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    newest = events(signed)
    forged: Event = {"kind": "recount", "subject": "X", "at": "2026-06-01T00:00:00+00:00",
                     "data": {"exporter": "X", "year": 2026, "personal_subjects_change": 0,
                              "sensitive_subjects_change": 0}}
    rewrite_chain(signed, lambda _conn, chain: [*chain, forged])
    result = signed.verify(public_keys=given(keys, "first"))
    assert (result.first_bad, result.problem) == (
        newest + 1, f"events {newest + 1} to {newest + 1} are not covered by any signature: written without the "
                    "signing key, or appended by someone without it")


def test_history_written_before_any_key_is_named_as_unsigned(ledger_url: str, ledger_engine: Engine,
                                                             keys: dict[str, tuple[Path, Path]]) -> None:
    unsigned = Ledger(ledger_url, signer=None)
    unsigned.submit(ledger_engine, transfer("U-1"))
    before = events(unsigned)
    unsigned.close()
    later = Ledger(ledger_url, signer=signer_of(keys["first"][0]))  # announces its key on opening
    try:
        later.submit(ledger_engine, transfer("U-2"))
        result = later.verify(public_keys=given(keys, "first"))
        assert result.ok, result.problem
        assert f"events 1 to {before} were written before any signing key: unsigned, anchored only by the first " \
               f"signed head (event {before + 1})" in result.notes
    finally:
        later.close()


def test_a_rotated_key_is_announced_and_both_keys_are_needed(signed: Ledger, ledger_engine: Engine,
                                                             keys: dict[str, tuple[Path, Path]]) -> None:
    rotated = Ledger(signed.url, signer=signer_of(keys["second"][0]))
    try:
        rotated.submit(ledger_engine, transfer("K-2"))
        announcement = json.loads(str(scalar(rotated, "SELECT body FROM events WHERE kind = 'signing_key' "
                                                      "ORDER BY seq DESC LIMIT 1")))
        assert announcement["data"]["previous_key_id"] == signer_of(keys["first"][0]).key_id
        assert announcement["data"]["key_id"] == signer_of(keys["second"][0]).key_id
        both = rotated.verify(public_keys=given(keys, "first", "second"))
        assert both.ok, both.problem
        assert sum(note.startswith("key ") for note in both.notes) == 2
        only_new = rotated.verify(public_keys=given(keys, "second"))
        assert not only_new.ok and "which is none of the public keys given" in (only_new.problem or "")
    finally:
        rotated.close()


def test_a_writer_without_the_key_is_refused_on_a_signed_chain(signed: Ledger, ledger_engine: Engine,
                                                               keys: dict[str, tuple[Path, Path]]) -> None:
    length = events(signed)
    keyless = Ledger(signed.url, signer=None)
    try:
        with pytest.raises(SigningKeyRequired, match="set BAYGATE_SIGNING_KEY_FILE"):
            keyless.submit(ledger_engine, transfer("NOKEY-1"))
        with pytest.raises(SigningKeyRequired):
            keyless.withdraw("S-1")
        assert events(keyless) == length
        assert keyless.verify(public_keys=given(keys, "first")).ok
    finally:
        keyless.close()


@pytest.mark.parametrize(("edit", "problem"), [
    ("UPDATE chain_signing_keys SET public_key = :other", "its key or id was edited"),
    ("DELETE FROM chain_signing_keys", "was deleted"),
])
def test_an_edited_or_deleted_key_announcement_is_named(signed: Ledger, keys: dict[str, tuple[Path, Path]],
                                                        edit: str, problem: str) -> None:
    other = signer_of(keys["second"][0]).public_b64
    sql(signed, edit, **({"other": other} if ":other" in edit else {}))
    result = signed.verify()
    assert not result.ok and problem in (result.problem or "")
    assert result.first_bad == int(scalar(signed, "SELECT min(seq) FROM events WHERE kind = 'signing_key'"))


def test_a_key_announcement_without_its_event_is_named(signed: Ledger) -> None:
    sql(signed, "INSERT INTO chain_signing_keys (announced_seq, key_id, public_key) "
                "SELECT 2, key_id, public_key FROM chain_signing_keys")
    result = signed.verify()
    assert (result.first_bad, result.problem) == (
        "signing key 2", "the signing key recorded as announced at event 2 has no signing_key event there (inserted)")


def test_a_signature_before_its_keys_announcement_is_named(signed: Ledger, ledger_engine: Engine,
                                                           keys: dict[str, tuple[Path, Path]]) -> None:
    """A head signed by a key the chain announced only later: the key change is part of the record."""
    rotated = Ledger(signed.url, signer=signer_of(keys["second"][0]))
    rotated.close()
    second = int(scalar(signed, "SELECT max(seq) FROM events WHERE kind = 'signing_key'"))
    sql(signed, "UPDATE chain_signatures SET key_id = (SELECT key_id FROM chain_signatures WHERE seq = :second) "
                "WHERE seq = :before", second=second, before=second - 1)
    result = signed.verify()
    assert result.first_bad == second - 1
    assert "which the chain does not announce before it" in (result.problem or "")


def test_the_private_key_never_enters_the_database(signed: Ledger, keys: dict[str, tuple[Path, Path]]) -> None:
    private = serialization.load_pem_private_key(keys["first"][0].read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    import base64

    needles = {raw.hex(), base64.b64encode(raw).decode(), keys["first"][0].read_text().splitlines()[1]}
    with signed.sql_engine.connect() as conn:
        for table in ("events", "chain_signatures", "chain_signing_keys", "transfers", "packs"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                dumped = json.dumps([str(value) for value in row])
                assert not any(needle in dumped for needle in needles), table
    assert "first" not in repr(signer_of(keys["first"][0]))


def test_a_key_file_others_can_read_or_of_another_kind_is_refused(tmp_path: Path,
                                                                  keys: dict[str, tuple[Path, Path]]) -> None:
    private_file = keys["first"][0]
    os.chmod(private_file, 0o644)
    with pytest.raises(SigningKeyError, match=r"can be read by other users \(mode 0644\)"):
        load_signer({"BAYGATE_SIGNING_KEY_FILE": str(private_file)})
    public_file = keys["first"][1]
    os.chmod(public_file, 0o600)
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_signer({"BAYGATE_SIGNING_KEY_FILE": str(public_file)})
    with pytest.raises(SigningKeyError, match="not a PEM public key"):
        load_public_keys([private_file])


def test_a_checkpoint_of_a_rewritten_chain_names_the_checkpoint(signed: Ledger) -> None:
    kept = signed.checkpoint()
    bogus = Checkpoint(kept.seq, "f" * 64, kept.at, kept.taken_at, source="kept.json")
    result = signed.verify([kept, bogus])
    assert not result.ok and result.first_bad == kept.seq
    assert "its hash is not the one checkpoint kept.json" in (result.problem or "")
    assert signed.verify([kept]).notes[0] == f"checkpoint {kept.seq} holds (event {kept.seq})"
