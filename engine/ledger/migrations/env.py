"""Alembic environment for the ledger: always run programmatically on a connection we hand over.

``engine.ledger.database.upgrade`` opens the transaction (and takes the lock) itself, so this file
only binds Alembic to that connection; there is no alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by database.upgrade
    raise RuntimeError("run ledger migrations through engine.ledger.database.upgrade (baygate db upgrade)")

context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
