"""Notes by author and time, moves by actor and time: the hours a zone cuts from `report activity`

Revision ID: 0038_people_time_indexes
Revises: 0037_cycle_by_rep
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0038_people_time_indexes"
down_revision = "0037_cycle_by_rep"
branch_labels = None
depends_on = None

# `report activity` sums kept days (0034) and reads row by row only the hours a local midnight
# cuts from a UTC day. For a rep or a manager those hours were a few of the whole company's
# (1,000-2,000 notes and moves at 100,000 customers, each fetched from the heap and its
# customer tested against the book: 10-40 ms in PostgreSQL); only the report's own people's
# rows count, so they are now read by author (actor) and time from these indexes. Live notes
# only, as the report counts them.
INDEXES = {
    "ix_interactions_author_occurred": (
        "interactions",
        "(author_id, occurred_at) WHERE deleted_at IS NULL",
    ),
    "ix_stage_changes_actor_changed": ("stage_changes", "(actor_id, changed_at)"),
}


def upgrade() -> None:
    """Apply this migration."""
    for name, (table, columns) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} {columns}")


def downgrade() -> None:
    """Revert this migration."""
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
