"""WeChat: the borrower's OpenID for the lender's Official Account (issue 16),
the first verification factor on WeChat like a Telegram chat id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE and a unique index, also on SQLite: recreating `borrowers`
    # would trip the foreign keys that point at it.
    op.add_column("borrowers", sa.Column("wechat_openid", sa.String(64)))
    op.create_index("ix_borrowers_wechat_openid", "borrowers", ["wechat_openid"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_borrowers_wechat_openid", table_name="borrowers")
    with op.batch_alter_table("borrowers", recreate="never") as batch:
        batch.drop_column("wechat_openid")
