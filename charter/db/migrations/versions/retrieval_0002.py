"""retrieval: the field a chunk was built from (``sections[4].items[1]``, ``price``), for citations

Revision ID: retrieval_0002
Revises: retrieval_0001

Rows from before this revision get an empty field; start-up re-indexes them (reconciliation
compares chunks, not only revisions).
"""

import sqlalchemy as sa
from alembic import op

revision = "retrieval_0002"
down_revision = "retrieval_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retrieval_chunks") as batch:
        batch.add_column(sa.Column("field", sa.String(length=300), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("retrieval_chunks") as batch:
        batch.drop_column("field")
