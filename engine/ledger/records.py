"""How a recorded transfer's request and decision are stored: compressed against an earlier transfer
of the same kind, and recovered byte for byte (revision 0011; DESIGN section 9: at most 4 KB a transfer).

Why: a transfer took 12.5 KB of database, 58 % of it the decision's JSON, and most of that the same
texts in every decision of the same kind: each reason's message in three languages and its citation,
each obligation's text, what is missing, the pack versions and options. At 10^7 transfers that was
125 GB; zlib alone leaves about 4 KB (the texts repeat across decisions, not within one).

So the texts of the first transfer of each kind (the pack set, the outcome and the rules that fired, in
order: :func:`kind_of`) are stored once, in ``record_dictionaries`` under their SHA-256, and every
transfer's texts are compressed with zlib using them as its preset dictionary (``zdict``): whatever
repeats (messages, citations, obligations, most of the request) costs a few bytes of back-reference.
About 200 bytes a transfer on the benchmark's ledgers, with a few hundred dictionaries of 12 KB each.

A record is one blob: a format byte, the 32-byte SHA-256 of its dictionary, and the zlib stream of the
request's canonical JSON, a newline (canonical JSON never holds one outside a string, where it is
escaped) and the decision's canonical JSON. Decompressing gives the very texts that were recorded:
nothing is re-serialised, so the submission event's SHA-256 of each text proves the round trip (and
any edit of a record or of a dictionary) for every transfer, as it did before. Reading costs a
decompression (about 10 us) instead of nothing; writing about 50 us.

Rows written before revision 0011 keep their texts in ``request_json`` and ``decision_json``
(``record`` is NULL) and read as before; rows written since leave those two columns empty.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text

WITH_DICTIONARY = 1
"""Format byte: zlib with the preset dictionary whose digest follows."""
PLAIN = 2
"""Format byte: zlib without a dictionary (a transfer of a kind this process may no longer give
dictionaries to, see :data:`MAX_DICTIONARIES`)."""

WINDOW = 32_768
"""zlib reads at most the last 32 KB of a preset dictionary: a dictionary is stored cut to that."""
LEVEL = 3
"""zlib's level. Levels 1-3 compress with zlib's fast strategy (no lazy matching); against a kind's
dictionary a record loses little by it. Measured over 40 records of a 10^4 ledger: level 6 72 us and 231
bytes a record, level 3 51 us and 253 bytes (levels 4-5 cost more than 6; setting the dictionary costs
the same at every level): 21 us less a recorded transfer for 22 bytes more (about 1 % of what a
transfer stores). Any level reads back with the same decompressor."""
MAX_DICTIONARIES = 2_000
"""Dictionaries one process makes at most; after that a transfer of a new kind is compressed alone
(about 4 KB). Kinds are combinations of fired rules, a few hundred in practice; this bounds the cost
of a pack set whose combinations would never repeat."""

INSERT_DICTIONARY = text("INSERT INTO record_dictionaries (digest, kind, content) VALUES (:digest, :kind, :content) "
                         "ON CONFLICT (digest) DO NOTHING")
_BY_KIND = text("SELECT digest, content FROM record_dictionaries WHERE kind = :kind ORDER BY digest LIMIT 1")
_BY_DIGEST = text("SELECT digest, content FROM record_dictionaries WHERE digest IN :digests").bindparams(
    bindparam("digests", expanding=True))


def kind_of(rules_digest: str, outcome: str, rule_ids: Iterable[str]) -> str:
    """What makes two decisions' texts alike: the pack set, the outcome and the rules that fired, in
    order (so the same messages, citations, obligations and missing items). A hex SHA-256."""
    return hashlib.sha256("\n".join([rules_digest, outcome, *rule_ids]).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Dictionary:
    """A preset dictionary: its content (at most WINDOW bytes) and that content's SHA-256."""

    digest: bytes
    content: bytes

    @classmethod
    def of(cls, content: bytes) -> Dictionary:
        content = content[-WINDOW:]
        return cls(hashlib.sha256(content).digest(), content)


def joined(request_json: str, decision_json: str) -> bytes:
    return f"{request_json}\n{decision_json}".encode()


def pack(request_json: str, decision_json: str, dictionary: Dictionary | None) -> bytes:
    """The stored form of a request and its decision (both canonical JSON texts)."""
    return pack_joined(joined(request_json, decision_json), dictionary)


def pack_joined(data: bytes, dictionary: Dictionary | None) -> bytes:
    """:func:`pack` of their :func:`joined` bytes (a writer that chose the dictionary with them already)."""
    if dictionary is None:
        return bytes([PLAIN]) + zlib.compress(data, LEVEL)
    compressor = zlib.compressobj(LEVEL, zdict=dictionary.content)
    return bytes([WITH_DICTIONARY]) + dictionary.digest + compressor.compress(data) + compressor.flush()


def dictionary_digest(record: bytes) -> bytes | None:
    """The digest of the dictionary a record needs, or None."""
    return bytes(record[1:33]) if record[:1] == bytes([WITH_DICTIONARY]) else None


def unpack(record: bytes, dictionary: Dictionary | None) -> tuple[str, str]:
    """The request and decision texts of a stored record, exactly as recorded; ``dictionary`` is the
    one :func:`dictionary_digest` names. Raises ValueError for a record that cannot be read."""
    request, decision = unpack_bytes(record, dictionary)
    try:
        return request.decode("utf-8"), decision.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"its compressed texts cannot be read ({exc})") from exc


def unpack_bytes(record: bytes, dictionary: Dictionary | None) -> tuple[bytes, bytes]:
    """:func:`unpack` as UTF-8 bytes (what hashing reads: no decoding and encoding again)."""
    if not record:
        raise ValueError("an empty record")
    kind = record[0]
    try:
        if kind == PLAIN:
            data = zlib.decompress(record[1:])
        elif kind == WITH_DICTIONARY:
            if dictionary is None or dictionary.digest != record[1:33]:
                raise ValueError("its compression dictionary is not the one it names")
            decompressor = zlib.decompressobj(zdict=dictionary.content)
            data = decompressor.decompress(record[33:])
            if not decompressor.eof:
                raise ValueError("its compressed texts are cut short")
        else:
            raise ValueError(f"an unknown record format ({kind})")
    except zlib.error as exc:
        raise ValueError(f"its compressed texts cannot be read ({exc})") from exc
    request_json, newline, decision_json = data.partition(b"\n")
    if not newline:
        raise ValueError("its texts are not a request and a decision")
    return request_json, decision_json


class DictionaryEdited(ValueError):
    """A stored dictionary whose content no longer has its digest, or one a record names that is gone."""

    def __init__(self, digest: bytes, problem: str) -> None:
        super().__init__(f"compression dictionary {digest.hex()[:16]}: {problem}")
        self.digest = digest


class DictionaryReader:
    """Reads dictionaries by digest on one connection, keeping the most recently used (a ledger holds
    a few hundred; each is read once per process in practice). Every one read is checked against its
    digest, so an edited dictionary is named as such rather than as the records that use it."""

    def __init__(self, connection: Connection, capacity: int = 512) -> None:
        self.connection = connection
        self.capacity = capacity
        self._cache: OrderedDict[bytes, Dictionary] = OrderedDict()

    def for_record(self, record: bytes) -> Dictionary | None:
        digest = dictionary_digest(record)
        return None if digest is None else self.get(digest)

    def get(self, digest: bytes) -> Dictionary:
        found = self._cache.get(digest)
        if found is not None:
            self._cache.move_to_end(digest)
            return found
        rows = self.connection.execute(_BY_DIGEST, {"digests": [digest.hex()]}).all()
        if not rows:
            raise DictionaryEdited(digest, "named by a record but not stored (deleted)")
        content = _bytes(rows[0][1])
        loaded = Dictionary.of(content)
        if loaded.digest != digest or len(content) > WINDOW:
            raise DictionaryEdited(digest, "its content does not have its digest (edited)")
        self._cache[digest] = loaded
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return loaded

    def raw_texts(self, row: Any) -> tuple[bytes, bytes]:
        """:meth:`texts` as UTF-8 bytes."""
        record = getattr(row, "record", None)
        if record is None:
            return str(row.request_json).encode("utf-8"), str(row.decision_json).encode("utf-8")
        record = _bytes(record)
        return unpack_bytes(record, self.for_record(record))

    def texts(self, row: Any) -> tuple[str, str]:
        """The request and decision texts of a ``transfers`` row (anything with ``record``,
        ``request_json`` and ``decision_json``): unpacked, or as a row written before revision 0011
        holds them."""
        record = getattr(row, "record", None)
        if record is None:
            return str(row.request_json), str(row.decision_json)
        record = _bytes(record)
        return unpack(record, self.for_record(record))


def _bytes(value: Any) -> bytes:
    """A binary column as bytes (psycopg returns memoryview, SQLite bytes)."""
    return bytes(value)


class DictionaryChooser:
    """Picks, per kind of decision, the dictionary a new record is compressed with; shared by a
    ledger's writing threads. A kind this process has not met is looked up in the database (a
    dictionary another process stored), else the transfer's own texts become its kind's dictionary,
    stored with the transfer (``new``)."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Dictionary] = {}
        self._made = 0
        self._lock = threading.Lock()

    def choose(self, connection: Connection, kind: str, data: bytes,
               pending: dict[str, Dictionary]) -> tuple[Dictionary | None, bool]:
        """The dictionary for a transfer of ``kind`` whose texts are ``data``, and whether it is new: to
        be stored in the same transaction (:func:`stored_row`) and remembered once that commits.
        ``pending`` holds the new dictionaries of the transaction so far (a group may record two
        transfers of a new kind)."""
        with self._lock:
            found = self._by_kind.get(kind) or pending.get(kind)
        if found is not None:
            return found, False
        row = connection.execute(_BY_KIND, {"kind": kind}).first()
        if row is not None:
            found = Dictionary.of(_bytes(row[1]))
            with self._lock:
                self._by_kind[kind] = found
            return found, False
        with self._lock:
            if self._made >= MAX_DICTIONARIES:
                return None, False
            self._made += 1
        pending[kind] = Dictionary.of(data)
        return pending[kind], True

    def known(self, kind: str) -> Dictionary | None:
        """The dictionary of ``kind`` this process already uses, if any (no database read): ``choose``
        answers this same one for the kind from now on."""
        with self._lock:
            return self._by_kind.get(kind)

    def remember(self, committed: dict[str, Dictionary]) -> None:
        """New dictionaries were committed: later transfers of their kinds use them."""
        with self._lock:
            for kind, dictionary in committed.items():
                self._by_kind.setdefault(kind, dictionary)


def stored_row(kind: str, dictionary: Dictionary) -> dict[str, Any]:
    """The ``record_dictionaries`` row of a new dictionary (for INSERT_DICTIONARY)."""
    return {"digest": dictionary.digest.hex(), "kind": kind, "content": dictionary.content}
