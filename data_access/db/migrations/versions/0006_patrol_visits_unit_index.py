"""index patrol visits by cell and day (coverage as an index probe per cell)

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_patrol_visits_unit_day", "patrol_visits", ["unit_code", "visited_on"])


def downgrade() -> None:
    op.drop_index("ix_patrol_visits_unit_day", table_name="patrol_visits")
