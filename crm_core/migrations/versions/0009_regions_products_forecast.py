"""Regions, products, a deal's product and forecast category

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "regions",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_regions"),
        sa.UniqueConstraint("external_id", name="uq_regions_external_id"),
        sa.UniqueConstraint("name", name="uq_regions_name"),
    )
    op.create_table(
        "products",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("family", sa.String(100), nullable=True),
        sa.Column("price", sa.Numeric(14, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("external_id", name="uq_products_external_id"),
        sa.UniqueConstraint("name", name="uq_products_name"),
    )
    op.create_index("ix_products_name_key", "products", ["name_key"])
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("region_id", ID, nullable=True))
        batch.create_foreign_key("fk_teams_region_id_regions", "regions", ["region_id"], ["id"])
        batch.create_index("ix_teams_region_id", ["region_id"])
    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("product_id", ID, nullable=True))
        batch.add_column(sa.Column("quantity", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("forecast_category", sa.String(16), nullable=True))
        batch.create_foreign_key("fk_deals_product_id_products", "products", ["product_id"], ["id"])
        batch.create_index("ix_deals_product_id", ["product_id"])
        batch.create_index("ix_deals_expected_close", ["expected_close"])


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("deals") as batch:
        batch.drop_index("ix_deals_expected_close")
        batch.drop_index("ix_deals_product_id")
        batch.drop_constraint("fk_deals_product_id_products", type_="foreignkey")
        batch.drop_column("forecast_category")
        batch.drop_column("quantity")
        batch.drop_column("product_id")
    with op.batch_alter_table("teams") as batch:
        batch.drop_index("ix_teams_region_id")
        batch.drop_constraint("fk_teams_region_id_regions", type_="foreignkey")
        batch.drop_column("region_id")
    op.drop_index("ix_products_name_key", table_name="products")
    op.drop_table("products")
    op.drop_table("regions")
