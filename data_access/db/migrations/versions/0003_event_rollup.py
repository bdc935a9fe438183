"""event rollup (levels 0-2 x month x category x source x whistle)

Revision ID: 0003
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_rollup",
        sa.Column("unit_code", sa.String(40), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("whistle", sa.String(10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        *[sa.Column(f"l{i}_code", sa.String(40), nullable=True) for i in range(5)],
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_late", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_code", "month", "category", "source", "whistle", name=op.f("pk_event_rollup")),
    )
    for lv in (0, 1, 2):
        op.create_index(f"ix_event_rollup_l{lv}_month", "event_rollup", [f"l{lv}_code", "month"])
    for lv in (0, 1, 2):
        op.create_index(f"ix_events_open_l{lv}", "events", [f"l{lv}_code", "reported_at"],
                        sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"))


def downgrade() -> None:
    for lv in (0, 1, 2):
        op.drop_index(f"ix_events_open_l{lv}", table_name="events")
    op.drop_table("event_rollup")
