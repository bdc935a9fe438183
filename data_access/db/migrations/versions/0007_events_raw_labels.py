"""events keep labels the vocabulary did not know (category_raw, source_raw, whistle_raw, status_raw)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FIELDS = ("category", "source", "whistle", "status")


def upgrade() -> None:
    for f in FIELDS:
        op.add_column("events", sa.Column(f"{f}_raw", sa.String(100), nullable=True))
        op.create_index(f"ix_events_{f}_raw", "events", [f"{f}_raw"],
                        sqlite_where=sa.text(f"{f}_raw IS NOT NULL"), postgresql_where=sa.text(f"{f}_raw IS NOT NULL"))


def downgrade() -> None:
    for f in FIELDS:
        op.drop_index(f"ix_events_{f}_raw", table_name="events")
        with op.batch_alter_table("events") as batch:
            batch.drop_column(f"{f}_raw")
