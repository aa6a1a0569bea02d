"""Signatures of the audit chain's committed heads, and the signing keys the chain announces.

- ``chain_signatures``: one row per committed transaction that appended to the chain while a signing
  key was configured: the head it committed (position and hash), the key's id and the Ed25519
  signature (base64) of ``engine.ledger.signing.head_message``. Written in the transaction that writes
  the events, so a head is never committed unsigned by a service holding the key.
- ``chain_signing_keys``: the public keys announced in the chain (a ``signing_key`` event each time
  the key changes), by the position of their announcement: what a writer reads to know whether it
  must announce its key, or refuse to write unsigned to a signed chain. ``audit verify`` checks the
  rows against the events.

The private key is never stored (``BAYGATE_SIGNING_KEY_FILE`` names a file outside the database).
Nothing earlier is rewritten: a ledger signed from now on reports its earlier events as written
before any key. The downgrade drops both tables; the ``signing_key`` events stay in the chain (an
earlier version's verify reports them as an unknown kind).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("chain_signatures",
                    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("hash", sa.String(64), nullable=False),
                    sa.Column("key_id", sa.String(16), nullable=False),
                    sa.Column("signature", sa.String(100), nullable=False))
    op.create_table("chain_signing_keys",
                    sa.Column("announced_seq", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("key_id", sa.String(16), nullable=False),
                    sa.Column("public_key", sa.String(64), nullable=False))


def downgrade() -> None:
    op.drop_table("chain_signing_keys")
    op.drop_table("chain_signatures")
