"""previews: the register of issued preview tokens, so one token can be revoked

Revision ID: previews_0001
Revises: 0001_initial

Tokens minted before this revision carry no ``v`` claim and have no row; they stay valid until
they expire (at most 7 days) and are revocable only by rotating ``secret_key`` (docs/preview.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "previews_0001"
down_revision = "0001_initial"
branch_labels = ("previews",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "preview_tokens",
        sa.Column("jti", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_preview_tokens")),
    )
    op.create_index("ix_preview_tokens_target", "preview_tokens", ["scope", "target_id", "issued_at"])
    op.create_index("ix_preview_tokens_expires", "preview_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_preview_tokens_expires", table_name="preview_tokens")
    op.drop_index("ix_preview_tokens_target", table_name="preview_tokens")
    op.drop_table("preview_tokens")
