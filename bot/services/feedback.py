"""The borrower's feedback (issue 14 §5): asking the one optional question, filing the
answer, and the report's `feedback` section.

When the question may be asked and how an answer is read: bot/domain/feedback.py.
The store keeps one row per question (bot/adapters/store/feedback.py): `asked` until
the borrower answers, then `rated` (1-5, with their comment masked like any borrower
text) or `skipped`. A question nobody answered stays `asked`: the report's response
rate counts it.

Report definitions (`feedback_figures`, over the questions asked in the period):
- `asked`, `rated`, `skipped`, `unanswered`; `with_comment` (ratings with words);
- `response_rate`: rated / asked; `skip_rate`: skipped / asked;
- `average`: the mean rating (two decimals), `distribution`: ratings 1-5 (every one
  listed, zero or not);
- the same, in short, `by_channel` and `by_language`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

from bot.domain.feedback import HIGHEST, LOWEST, RATING, SKIP, FeedbackAnswer

RATED, SKIPPED, ASKED_ONLY = "rated", "skipped", "asked"


@dataclass(frozen=True)
class FeedbackRow:
    """One question asked in the period, as the report needs it (no words)."""

    status: str  # asked | rated | skipped
    rating: int | None
    channel: str | None
    language: str
    has_comment: bool = False


class FeedbackStore(Protocol):
    def ask_feedback(
        self,
        loan_ref: str,
        *,
        agreement_ref: str | None,
        conversation_id: str,
        channel: str | None,
        language: str,
    ) -> str: ...

    def answer_feedback(
        self,
        feedback_ref: str,
        *,
        rating: int | None,
        comment: str | None,
        conversation_id: str,
        channel: str | None,
    ) -> bool: ...


def ask(
    store: FeedbackStore,
    loan_ref: str,
    *,
    agreement_ref: str | None,
    conversation_id: str,
    channel: str | None,
    language: str,
) -> str:
    """Record that the question was asked (once per agreement); its reference."""
    return store.ask_feedback(
        loan_ref, agreement_ref=agreement_ref, conversation_id=conversation_id, channel=channel, language=language
    )


def answer(
    store: FeedbackStore, feedback_ref: str, reading: FeedbackAnswer, *, conversation_id: str, channel: str | None
) -> bool:
    """File a rating (with its comment) or a skip; False when there is nothing to file
    (not an answer, or that question was already answered)."""
    if reading.kind == RATING:
        return store.answer_feedback(
            feedback_ref,
            rating=reading.rating,
            comment=reading.comment,
            conversation_id=conversation_id,
            channel=channel,
        )
    if reading.kind == SKIP:
        return store.answer_feedback(
            feedback_ref, rating=None, comment=None, conversation_id=conversation_id, channel=channel
        )
    return False


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(rows: list[FeedbackRow]) -> dict[str, Any]:
    status = Counter(r.status for r in rows)
    ratings = [r.rating for r in rows if r.status == RATED and r.rating is not None]
    asked = len(rows)
    return {
        "asked": asked,
        "rated": status[RATED],
        "skipped": status[SKIPPED],
        "unanswered": status[ASKED_ONLY],
        "response_rate": _rate(status[RATED], asked),
        "average": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


def feedback_figures(rows: list[FeedbackRow]) -> dict[str, Any]:
    """The report's `feedback` section (see the module's docstring)."""
    figures = _figures(rows)
    ratings = Counter(r.rating for r in rows if r.status == RATED and r.rating is not None)
    figures["skip_rate"] = _rate(figures["skipped"], figures["asked"])
    figures["with_comment"] = sum(1 for r in rows if r.status == RATED and r.has_comment)
    figures["distribution"] = {str(n): ratings[n] for n in range(LOWEST, HIGHEST + 1)}
    for name, key in (("by_channel", "channel"), ("by_language", "language")):
        groups: dict[str, list[FeedbackRow]] = defaultdict(list)
        for row in rows:
            groups[str(getattr(row, key) or "unknown")].append(row)
        figures[name] = {group: _figures(groups[group]) for group in sorted(groups)}
    return figures


def render_feedback(figures: dict[str, Any]) -> list[str]:
    """The feedback section of `python -m bot report` as text."""

    def share(rate: float | None) -> str:
        return f"{100 * rate:.0f}%" if rate is not None else "-"

    def average(value: float | None) -> str:
        return f"{value:.2f}" if value is not None else "-"

    lines = [f"Borrower feedback ({figures['asked']} asked)"]
    lines.append(
        f"  rated {figures['rated']} ({share(figures['response_rate'])}), skipped {figures['skipped']}, "
        f"unanswered {figures['unanswered']}; average {average(figures['average'])} of 5; "
        f"{figures['with_comment']} with a comment"
    )
    lines.append("  ratings: " + ", ".join(f"{n}: {count}" for n, count in figures["distribution"].items()))
    for name in ("by_channel", "by_language"):
        if figures[name]:
            parts = [
                f"{group} {g['rated']}/{g['asked']} rated, average {average(g['average'])}"
                for group, g in figures[name].items()
            ]
            lines.append(f"  {name.replace('_', ' ')}: " + "; ".join(parts))
    lines.append("")
    return lines
