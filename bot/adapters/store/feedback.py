"""The borrower's feedback (issue 14 §5; bot/services/feedback.py): the question asked
once per agreement, the answer filed once, the rows the report reads. Each change is
audited (`feedback_asked`, `feedback_given` {rating, comment: whether there was one},
`feedback_skipped`); the comment itself is kept masked (bot.domain.privacy) in the
`feedback` table only, never in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.adapters.database import Database
from bot.adapters.orm import Agreement, Feedback, Loan
from bot.adapters.store import rows
from bot.domain.accounts import UnknownReference
from bot.domain.feedback import HIGHEST, LOWEST, MAX_COMMENT_CHARS
from bot.services.feedback import RATED, SKIPPED, FeedbackRow


class FeedbackRecords:
    db: Database

    def ask_feedback(
        self,
        loan_ref: str,
        *,
        agreement_ref: str | None,
        conversation_id: str,
        channel: str | None,
        language: str,
    ) -> str:
        """Record the question as asked; asking again about the same agreement (a retried
        action) gives the first question's reference and writes nothing."""
        try:
            with self.db.transaction() as s:
                loan = rows.loan(s, loan_ref)
                agreement = None
                if agreement_ref is not None:
                    agreement = s.scalar(
                        select(Agreement).where(Agreement.agreement_ref == agreement_ref, Agreement.loan_id == loan.id)
                    )
                    if agreement is None:
                        raise UnknownReference(agreement_ref)
                    earlier = s.scalar(select(Feedback.feedback_ref).where(Feedback.agreement_id == agreement.id))
                    if earlier is not None:
                        return str(earlier)
                now = rows.utcnow()
                ref = rows.new_ref("FB-")
                s.add(
                    Feedback(
                        feedback_ref=ref,
                        loan_id=loan.id,
                        agreement_id=agreement.id if agreement is not None else None,
                        conversation_id=conversation_id,
                        channel=channel,
                        language=language,
                        status="asked",
                        asked_at=now,
                    )
                )
                rows.audit(
                    s,
                    "feedback_asked",
                    loan=loan,
                    conversation_id=conversation_id,
                    channel=channel,
                    now=now,
                    feedback_ref=ref,
                    agreement_ref=agreement_ref,
                    language=language,
                )
                return ref
        except IntegrityError:
            # The same agreement asked about at the same moment elsewhere: that question stands.
            with self.db.reader() as s:
                earlier = s.scalar(
                    select(Feedback.feedback_ref).join(Agreement).where(Agreement.agreement_ref == agreement_ref)
                )
            if earlier is None:
                raise
            return str(earlier)

    def answer_feedback(
        self,
        feedback_ref: str,
        *,
        rating: int | None,
        comment: str | None,
        conversation_id: str,
        channel: str | None,
    ) -> bool:
        """File a rating 1-5 (with the comment, masked) or, without a rating, a skip.
        Only the conversation that was asked can answer, and only once (False otherwise)."""
        if rating is not None and not LOWEST <= rating <= HIGHEST:
            raise ValueError(f"a rating is {LOWEST} to {HIGHEST}")
        with self.db.transaction() as s:
            row = s.scalar(select(Feedback).where(Feedback.feedback_ref == feedback_ref).with_for_update())
            if row is None or row.status != "asked" or row.conversation_id != conversation_id:
                return False
            now = rows.utcnow()
            kept = rows.kept_words((comment or "")[:MAX_COMMENT_CHARS]) if rating is not None else None
            row.status = RATED if rating is not None else SKIPPED
            row.rating = rating
            row.comment = kept
            row.answered_at = now
            loan = s.get(Loan, row.loan_id)
            event = "feedback_given" if rating is not None else "feedback_skipped"
            details: dict[str, Any] = {"feedback_ref": feedback_ref}
            if rating is not None:
                details |= {"rating": rating, "comment": kept is not None}
            rows.audit(s, event, loan=loan, conversation_id=conversation_id, channel=channel, now=now, **details)
            return True

    def feedback_rows(self, since: datetime, until: datetime) -> list[FeedbackRow]:
        """The questions asked in [since, until), for the report (no words)."""
        with self.db.reader() as s:
            found = s.execute(
                select(Feedback.status, Feedback.rating, Feedback.channel, Feedback.language, Feedback.comment).where(
                    Feedback.asked_at >= since, Feedback.asked_at < until
                )
            ).all()
        return [
            FeedbackRow(
                status=r.status,
                rating=r.rating,
                channel=r.channel,
                language=r.language,
                has_comment=r.comment is not None,
            )
            for r in found
        ]

    def feedback(self, *, limit: int = 50) -> list[dict]:
        """The latest answered questions, newest first, with the masked comments (for the team)."""
        with self.db.reader() as s:
            found = s.execute(
                select(Feedback, Loan.loan_ref)
                .join(Loan, Loan.id == Feedback.loan_id)
                .where(Feedback.status != "asked")
                .order_by(Feedback.answered_at.desc(), Feedback.id.desc())
                .limit(limit)
            ).all()
        return [
            {
                "feedback_ref": f.feedback_ref,
                "loan_ref": loan_ref,
                "conversation_id": f.conversation_id,
                "channel": f.channel,
                "language": f.language,
                "status": f.status,
                "rating": f.rating,
                "comment": f.comment,
                "asked_at": f.asked_at.isoformat(),
                "answered_at": f.answered_at.isoformat() if f.answered_at else None,
            }
            for f, loan_ref in found
        ]
