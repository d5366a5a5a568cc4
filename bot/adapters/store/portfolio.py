"""Loading the lender's portfolio (the importer and the demo seed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.adapters.database import Database
from bot.adapters.orm import Borrower, Loan
from bot.adapters.store import rows
from bot.domain.conduct import market_for
from bot.domain.payments import days_past_due_bucket


class PortfolioRecords:
    db: Database

    def upsert_loans(self, loans: Iterable[dict[str, Any]]) -> tuple[int, int]:
        """Create or update loans (by loan_ref) and their borrowers; one transaction.

        Rows are already validated (see bot.ops.importer). Returns (created, updated).
        """
        created = updated = 0
        with self.db.transaction() as s:
            for row in loans:
                loan = s.scalar(
                    select(Loan).where(Loan.loan_ref == row["loan_ref"]).options(selectinload(Loan.borrower))
                )
                if loan is None:
                    borrower = s.scalar(
                        select(Borrower).where(
                            Borrower.full_name == row["borrower_name"],
                            Borrower.date_of_birth == row["date_of_birth"],
                        )
                    ) or Borrower(contact_preferences={}, created_at=rows.utcnow())
                    loan = Loan(loan_ref=row["loan_ref"], borrower=borrower, created_at=rows.utcnow())
                    s.add(loan)
                    created += 1
                else:
                    borrower = loan.borrower
                    updated += 1
                borrower.full_name = row["borrower_name"]
                borrower.date_of_birth = row["date_of_birth"]
                borrower.phone = row.get("phone")
                borrower.email = row.get("email")
                borrower.timezone = row["timezone"]
                borrower.language = row["language"]
                if row.get("contact_preferences") is not None:
                    borrower.contact_preferences = row["contact_preferences"]
                if row.get("preferred_channel"):
                    borrower.preferred_channel = row["preferred_channel"]
                if row.get("telegram_chat_id"):
                    borrower.telegram_chat_id = row["telegram_chat_id"]
                if row.get("wechat_openid"):
                    borrower.wechat_openid = row["wechat_openid"]
                if "family_name" in row or "title" in row:  # how to address them, when the file says
                    borrower.family_name = row.get("family_name")
                    borrower.title = row.get("title")
                # a move between days-past-due buckets is audited (the report's roll rates)
                before = days_past_due_bucket(loan.days_past_due) if loan.days_past_due is not None else None
                for name in (
                    "product",
                    "currency",
                    "principal",
                    "outstanding_balance",
                    "overdue_amount",
                    "days_past_due",
                    "next_due_date",
                ):
                    setattr(loan, name, row[name])
                loan.market = row.get("market") or market_for(row["currency"], row["timezone"])
                loan.status = row.get("status") or ("delinquent" if row["days_past_due"] > 0 else "current")
                loan.updated_at = rows.utcnow()
                after = days_past_due_bucket(loan.days_past_due)
                if before is not None and before != after:
                    details = {"from": before, "to": after, "source": "import"}
                    rows.audit(s, "dpd_bucket_changed", loan=loan, now=loan.updated_at, **details)
            rows.audit(s, "loans_imported", created=created, updated=updated)
        return created, updated
