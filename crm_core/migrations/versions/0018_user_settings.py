"""Personal settings: language `auto` and quiet hours

Revision ID: 0018_user_settings
Revises: 0017_api_webhooks
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_user_settings"
down_revision = "0017_api_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        # Existing people keep answering in their one language.
        batch_op.add_column(
            sa.Column("locale_auto", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("schedule_prefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_start", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quiet_end", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("schedule_prefs", schema=None) as batch_op:
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale_auto")
