"""Issue 13: whose conduct rules apply to a loan (`loans.market`: US, UK or CN) and how
to address its borrower (`borrowers.family_name`, `borrowers.title`).

Existing loans get the market `bot.domain.conduct.market_for` would give them: CN for
yuan or a borrower in China's time zones, UK for sterling, US for dollars, else by the
time zone (Europe/London UK, America/* US), else US.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_CN_ZONES = "('Asia/Shanghai', 'Asia/Chongqing', 'Asia/Chungking', 'Asia/Harbin', 'Asia/Urumqi', 'PRC')"
_ZONE = "(SELECT b.timezone FROM borrowers b WHERE b.id = loans.borrower_id)"


def upgrade() -> None:
    # Plain ALTER TABLE, also on SQLite: recreating a table would trip the foreign keys.
    op.add_column("loans", sa.Column("market", sa.String(2), nullable=False, server_default="US"))
    op.add_column("borrowers", sa.Column("family_name", sa.String(100)))
    op.add_column("borrowers", sa.Column("title", sa.String(8)))
    op.execute(
        "UPDATE loans SET market = CASE"
        f" WHEN upper(currency) = 'CNY' OR {_ZONE} IN {_CN_ZONES} THEN 'CN'"
        " WHEN upper(currency) = 'GBP' THEN 'UK'"
        " WHEN upper(currency) = 'USD' THEN 'US'"
        f" WHEN {_ZONE} IN ('Europe/London', 'Europe/Belfast', 'GB') THEN 'UK'"
        f" WHEN {_ZONE} LIKE 'America/%' OR {_ZONE} LIKE 'US/%' THEN 'US'"
        " ELSE 'US' END"
    )


def downgrade() -> None:
    with op.batch_alter_table("borrowers", recreate="never") as batch:
        batch.drop_column("title")
        batch.drop_column("family_name")
    with op.batch_alter_table("loans", recreate="never") as batch:
        batch.drop_column("market")
