"""a delivery claim is a lease

- ``notifications.lease_until``: until when the worker that claimed the row (``status =
  sending``) holds it. The worker renews the lease while it lives; a row whose lease ran out
  (its process was killed) goes back to ``pending`` within a minute instead of ten.

A plain added column (``ALTER TABLE … ADD COLUMN`` on SQLite too): existing rows keep their data;
a row claimed before the upgrade has no lease and is judged by ``claimed_at`` as before.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications", sa.Column("lease_until", models.base.UTCDateTime(), nullable=True)
    )


def downgrade() -> None:
    # native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the table, and through
    # ON DELETE CASCADE every row that refers to it
    op.drop_column("notifications", "lease_until")
