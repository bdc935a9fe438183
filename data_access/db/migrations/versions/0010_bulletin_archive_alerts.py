"""bulletin archive and alerts: generated 通报 files; red/orange and overdue 重点哨 alerts

Revision ID: 0009_bulletin
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_bulletin"
down_revision = "0009_api"
branch_labels = None
depends_on = None

LEVELS = (0, 1, 2, 3, 4)


def _anc() -> list[sa.Column]:
    return [sa.Column(f"l{lv}_code", sa.String(40), nullable=True) for lv in LEVELS]


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_code", sa.String(40), nullable=False),
        sa.Column("unit_name", sa.String(100), nullable=False),
        *_anc(),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("generated_by", sa.String(100), nullable=False),
        sa.Column("pdf_path", sa.String(500), nullable=True),
        sa.Column("xlsx_path", sa.String(500), nullable=True),
        sa.Column("incomplete", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
    )
    op.create_index("ix_bulletins_period", "bulletins", ["period", "unit_code"])
    op.create_index("ix_bulletins_l1", "bulletins", ["l1_code"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("unit_code", sa.String(40), nullable=False),
        sa.Column("unit_name", sa.String(100), nullable=True),
        *_anc(),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("posted", sa.String(12), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_open", "alerts", ["kind", "key", "cleared_at"])
    op.create_index("ix_alerts_raised", "alerts", ["raised_at"])
    op.create_index("ix_alerts_l1", "alerts", ["l1_code"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("bulletins")
