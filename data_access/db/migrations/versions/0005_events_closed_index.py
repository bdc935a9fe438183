"""index events by district and close time (daily closed counts)

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_l0_closed", "events", ["l0_code", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_events_l0_closed", table_name="events")
