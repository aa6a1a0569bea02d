"""The running totals sealed with a key the service holds and the database does not (issue 19 point 3).

Why: a decision reads an exporter's running totals (``engine.ledger.totals``), and one SQL statement
setting a total to 0 turned the next decision from conditional (security assessment) into permitted.
``audit verify`` finds such an edit afterwards; the decision must not be made on it in the first place.
So every totals row carries a MAC: HMAC-SHA256, keyed by the totals key, over the row's key columns and
figures. Every read that decides or reports (submissions, dry runs, ``ledger counts``, withdrawals)
checks the MAC of each row it reads, and that no sums row is missing where counted transfers exist; a
mismatch refuses to decide (``LedgerIntegrityError``: HTTP 503, exit 4, "ledger integrity").

The key: ``BAYGATE_TOTALS_KEY_FILE`` names it (a deployment names its own, the same file for every
replica and the command line); by default ``$XDG_CONFIG_HOME/baygate/totals.key`` (``~/.config/...``),
created on first use with 32 random bytes, mode 0600. It never enters the database: a MAC is stored as
``KEYID:MAC``, the key id an HMAC of a fixed label, so a row sealed with another key is told from an
edited one (and the message says which).

What it answers: a writer with access to the database but not to the service's host (a PostgreSQL
administrator, an injected statement) editing, forging or deleting a total. What it does not: a row
put back to an earlier value together with the MAC it had then (a rollback of that row, or of the
whole database), which ``audit verify`` finds against the chain; deleting an exporter-year's counted
transfers together with its totals row (verify finds the chain's events without rows); an edit of the
chain and the totals together that keeps them consistent (found by verify only with a checkpoint or the
signatures); anyone holding the key. docs/integrity.md says the same.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ConfigError
from engine.ledger.errors import LedgerIntegrityError

TOTALS_KEY_ENV = "BAYGATE_TOTALS_KEY_FILE"
_LABEL = b"baygate running totals key id v1"


class TotalsKeyError(ConfigError):
    """The totals key file cannot be used (a setting: exit 3); the message never contains the key."""

    code = "baygate.bad-totals-key"


@dataclass(frozen=True)
class TotalsKey:
    """The key the running totals are sealed with, held in memory only."""

    _secret: bytes
    key_id: str

    @classmethod
    def of(cls, secret: bytes) -> TotalsKey:
        return cls(secret, hmac.new(secret, _LABEL, hashlib.sha256).hexdigest()[:8])

    def _mac(self, message: str) -> str:
        return f"{self.key_id}:{hmac.new(self._secret, message.encode('utf-8'), hashlib.sha256).hexdigest()[:32]}"

    def seal_sums(self, exporter: str, year: int, personal: int, sensitive: int, populations: int) -> str:
        """The MAC of an ``exporter_year_totals`` row (lengths make the fields unambiguous), with the
        number of population rows of its exporter-year: a population figure deleted or inserted through
        SQL changes that number, so it is found like an edited figure."""
        return self._mac(f"sums|{len(exporter)}:{exporter}|{year}|{personal}|{sensitive}|{populations}")

    def seal_population(self, exporter: str, year: int, population: str, tally: str, largest: int) -> str:
        """The MAC of an ``exporter_year_population_figures`` row."""
        return self._mac(f"population|{len(exporter)}:{exporter}|{year}|{len(population)}:{population}|{tally}|"
                         f"{largest}")

    def __repr__(self) -> str:  # never the key
        return f"TotalsKey(key_id={self.key_id})"


def default_key_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "baygate" / "totals.key"


def load_totals_key(environ: Mapping[str, str] | None = None) -> TotalsKey:
    """The totals key named by ``BAYGATE_TOTALS_KEY_FILE``, or the default file, created on first use."""
    env = os.environ if environ is None else environ
    named = env.get(TOTALS_KEY_ENV, "").strip()
    path = Path(named) if named else default_key_path(env)
    setting = TOTALS_KEY_ENV if named else f"the default totals key ({TOTALS_KEY_ENV} unset)"
    if not named or not path.exists():
        _create(path, setting)
    try:
        mode = path.stat().st_mode
        text = _read_whole(path)
    except OSError as exc:
        raise TotalsKeyError(f"{setting}: cannot read {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TotalsKeyError(f"{setting}: {path} can be read by other users (mode {stat.S_IMODE(mode):04o}); make "
                             "it readable by its owner only (chmod 600)")
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        secret = b""
    if len(secret) < 32:
        raise TotalsKeyError(f"{setting}: {path} does not hold a key of 32 bytes or more in hex "
                             "(e.g. `openssl rand -hex 32`)")
    return TotalsKey.of(secret)


def _create(path: Path, setting: str) -> None:
    """Create the key file with 32 random bytes, mode 0600, unless it exists (another process may be
    creating it at the same moment: exactly one wins, the others read its key)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise TotalsKeyError(f"{setting}: cannot create {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")


def _read_whole(path: Path) -> str:
    """The key file's text, waiting briefly for a creator still writing it."""
    for _ in range(50):
        text = path.read_text(encoding="ascii", errors="replace")
        if text.endswith("\n"):
            return text
        time.sleep(0.01)
    return path.read_text(encoding="ascii", errors="replace")


def mismatch(where: str, stored: str | None, expected: str, key: TotalsKey) -> LedgerIntegrityError:
    """The refusal for a row whose MAC is not the one this key gives."""
    if stored is None:
        why = "it carries no seal (written by an earlier version, or inserted outside the service)"
    elif stored.split(":", 1)[0] != key.key_id:
        why = (f"it was sealed with another totals key ({stored.split(':', 1)[0]}; this process holds "
               f"{key.key_id}): give every process the same {TOTALS_KEY_ENV}, or run `baygate db reseal` "
               "once `baygate audit verify` passes")
    else:
        why = "it was changed outside the service (its seal does not match its figures)"
    return LedgerIntegrityError(f"ledger integrity: {where}: {why}; refusing to decide on it. `baygate audit verify` "
                                "names what differs from the audit chain")


def check(stored: str | None, expected: str, where: str, key: TotalsKey) -> None:
    if stored is None or not hmac.compare_digest(stored, expected):
        raise mismatch(where, stored, expected, key)
