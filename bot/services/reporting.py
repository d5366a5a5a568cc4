"""The collections manager's summary for a date range: `python -m bot report`.

`build_report` reads the loan store and returns a plain dict (the same shape as
`python -m bot report --json`); `render_text` and `write_plot` present it.
Dates are inclusive and interpreted in UTC. Money is summed in Python with
Decimal (Money columns are text on SQLite) and reported as decimal strings.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from bot.domain.accounts import CASE_KINDS
from bot.domain.agreements import AGREEMENT_KINDS, OPEN_AGREEMENT_STATUSES
from bot.domain.formatting import money_str
from bot.domain.payments import DPD_BUCKETS
from bot.services.feedback import FeedbackRow, feedback_figures, render_feedback
from bot.services.outcomes import OutcomeRows, outcome_metrics

DEFAULT_DAYS = 30
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 30 days up to and including today (UTC)."""
    today = today or datetime.now(timezone.utc).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def parse_day(text: str) -> date:
    """A calendar date written exactly YYYY-MM-DD; ValueError with a readable message otherwise."""
    if not _DAY.fullmatch(text or ""):
        raise ValueError(f"{text!r} is not a date written YYYY-MM-DD (e.g. 2026-11-01).")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date.") from None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC): both dates inclusive."""
    if start > end:
        raise ValueError("the start date is after the end date")
    lo = datetime.combine(start, time.min, tzinfo=timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    return lo, hi


def _sorted_counts(counter: Counter[str]) -> dict[str, int]:
    """Largest first, then by name, so the output is stable."""
    return {k: v for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))}


@dataclass(frozen=True)
class ReportRows:
    """What happened in a period, as the loan store holds it (bot.adapters.store.reports)."""

    started: int  # conversations
    verified: int
    locked_out: int  # verification lockouts
    agreements: list[tuple[str, str, str, Decimal]]  # kind, status, currency, total
    reasons: list[str]  # reason codes
    cases: list[tuple[str, str]]  # kind, status
    opt_outs: list[str]  # channels
    handoffs: list[tuple[str, str]]  # reason, priority
    vulnerability_details: list[dict[str, Any]]
    # verification locks: the loan whose reference was locked (None: an unknown
    # reference or a conversation's own limit) and the audit event's details
    locks: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    # "not now" (issue 17): each decision_deferred event's conversation and details
    # ({step, pending_kind}), the reminders borrowers asked for, and the
    # conversations the period's agreements were recorded in
    deferrals: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)
    reminders_requested: int = 0
    agreement_conversations: list[str | None] = field(default_factory=list)


class ReportStore(Protocol):
    def report_rows(self, since: datetime, until: datetime) -> ReportRows: ...

    def outcome_rows(self, since: datetime, until: datetime) -> OutcomeRows: ...

    def feedback_rows(self, since: datetime, until: datetime) -> list[FeedbackRow]: ...


def build_report(store: ReportStore, start: date, end: date) -> dict[str, Any]:
    lo, hi = _bounds(start, end)
    rows = store.report_rows(lo, hi)
    started, verified, locked_out = rows.started, rows.verified, rows.locked_out
    agreement_rows, reason_rows, case_rows = rows.agreements, rows.reasons, rows.cases
    opt_out_rows, handoff_rows, vulnerability_details = rows.opt_outs, rows.handoffs, rows.vulnerability_details

    # agreements: every known kind is listed, zero or not, so the shape is stable
    counts: Counter[str] = Counter()
    active: Counter[str] = Counter()
    amounts: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for kind, status, currency, total in agreement_rows:
        counts[kind] += 1
        if status in OPEN_AGREEMENT_STATUSES:
            active[kind] += 1
        amounts[kind][currency] += Decimal(total)
    kinds = list(AGREEMENT_KINDS) + sorted(set(counts) - set(AGREEMENT_KINDS))
    by_kind = {
        kind: {
            "count": counts[kind],
            "amounts": {ccy: money_str(amounts[kind][ccy], ccy) for ccy in sorted(amounts.get(kind, {}))},
            "active": active[kind],
        }
        for kind in kinds
    }

    cases: dict[str, dict[str, int]] = {
        kind: {"opened": 0, "open": 0}
        for kind in list(CASE_KINDS) + sorted({k for k, _ in case_rows} - set(CASE_KINDS))
    }
    for kind, status in case_rows:
        cases[kind]["opened"] += 1
        if status == "open":
            cases[kind]["open"] += 1

    vulnerability = Counter(str((details or {}).get("category") or "unspecified") for details in vulnerability_details)

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "conversations": {"started": started, "verified": verified, "locked_out": locked_out},
        "agreements": {"by_kind": by_kind},
        "outcomes": {**outcomes(rows), **outcome_metrics(store.outcome_rows(lo, hi), lo, hi)},
        "reasons": _sorted_counts(Counter(reason_rows)),
        "cases": cases,
        "opt_outs": _sorted_counts(Counter(opt_out_rows)),
        "handoffs": {
            "total": len(handoff_rows),
            "urgent": sum(1 for _, priority in handoff_rows if priority == "urgent"),
            "by_reason": _sorted_counts(Counter(reason for reason, _ in handoff_rows)),
        },
        "vulnerability_flags": _sorted_counts(vulnerability),
        "verification_locks": verification_locks(rows.locks),
        "feedback": feedback_figures(store.feedback_rows(lo, hi)),
    }


def outcomes(rows: ReportRows) -> dict[str, Any]:
    """How verified conversations ended: agreements recorded, and borrowers who took
    time to decide ("not now is an answer", issue 17). A conversation that deferred
    at several steps counts once in `deferred` (once per step in `deferred_by_step`);
    `deferred_then_agreed` are those that went on to agree in the same conversation."""
    conversations = {cid for cid, _ in rows.deferrals if cid is not None}
    anonymous = sum(1 for cid, _ in rows.deferrals if cid is None)
    agreed_in = {cid for cid in rows.agreement_conversations if cid is not None}
    return {
        "agreed": len(rows.agreements),
        "deferred": len(conversations) + anonymous,
        "deferred_then_agreed": len(conversations & agreed_in),
        "reminders_requested": rows.reminders_requested,
        "deferred_by_step": _sorted_counts(Counter(str((d or {}).get("step") or "unknown") for _, d in rows.deferrals)),
    }


def verification_locks(locks: list[tuple[str | None, dict[str, Any]]]) -> dict[str, Any]:
    """Who was locked out of verification, for the team: guessing at one reference
    (a stranger, or a borrower who forgot) or one conversation trying several; on a
    channel that vouched for the borrower (someone with their phone or app login);
    again after an earlier lock (sustained guessing); and the real loans concerned,
    so someone can reach the borrower on the contact details on file."""
    guessing = [(ref, d) for ref, d in locks if d.get("reason") != "conversation_attempts"]
    return {
        "total": len(locks),
        "reference_guessing": len(guessing),
        "conversation_limit": len(locks) - len(guessing),
        "unknown_references": sum(1 for ref, _ in guessing if ref is None),
        "vouched_channels": sum(1 for _, d in guessing if d.get("path") == "vouched"),
        "repeated": sum(1 for _, d in guessing if int(d.get("lock_number") or 1) > 1),
        "loans": _sorted_counts(Counter(ref for ref, _ in guessing if ref is not None)),
    }


# ---------------------------------------------------------------- text


def _label(code: str) -> str:
    return code.replace("_", " ")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _agreement_total(report: dict[str, Any]) -> int:
    return sum(k["count"] for k in report["agreements"]["by_kind"].values())


def render_text(report: dict[str, Any]) -> str:
    period = report["period"]
    conv = report["conversations"]
    lines = [f"Collections report {period['from']} to {period['to']} (UTC, inclusive)", ""]

    lines.append("Conversations")
    lines.append(f"  started            {conv['started']:>6}")
    lines.append(f"  verified           {conv['verified']:>6}  ({_pct(conv['verified'], conv['started'])} of started)")
    lines.append(f"  lockouts           {conv['locked_out']:>6}")
    lines.append("")

    locks = report["verification_locks"]
    lines.append(f"Verification lockouts ({locks['total']})")
    lines.append(f"  guessing a reference       {locks['reference_guessing']:>6}")
    lines.append(f"    of no loan               {locks['unknown_references']:>6}")
    lines.append(f"    on a vouched channel     {locks['vouched_channels']:>6}")
    lines.append(f"    again after a lock       {locks['repeated']:>6}")
    lines.append(f"  one conversation, many     {locks['conversation_limit']:>6}")
    if locks["loans"]:
        lines.append("  loans: " + ", ".join(f"{ref} ({n})" for ref, n in locks["loans"].items()))
    lines.append("")

    total = _agreement_total(report)
    lines.append(f"Agreements ({total} recorded)")
    lines.append(f"  {'kind':<18} {'count':>6} {'active':>7}  amounts")
    for kind, k in report["agreements"]["by_kind"].items():
        money = ", ".join(f"{ccy} {amt}" for ccy, amt in k["amounts"].items()) or "-"
        lines.append(f"  {_label(kind):<18} {k['count']:>6} {k['active']:>7}  {money}")
    lines.append("")

    out = report["outcomes"]
    lines.append("Outcomes")
    lines.append(f"  agreed             {out['agreed']:>6}")
    later = f"  ({out['deferred_then_agreed']} agreed later in the conversation)" if out["deferred"] else ""
    lines.append(f"  deferred           {out['deferred']:>6}{later}")
    lines.append(f"  reminders asked    {out['reminders_requested']:>6}")
    if out["deferred_by_step"]:
        lines.append(
            "  deferred at: " + ", ".join(f"{_label(step)} ({n})" for step, n in out["deferred_by_step"].items())
        )
    lines.append("")
    lines.extend(render_outcome_metrics(out))

    reasons = report["reasons"]
    n_reasons = sum(reasons.values())
    lines.append(f"Reasons for missed payments ({n_reasons} recorded)")
    if not reasons:
        lines.append("  none")
    for code, n in reasons.items():
        lines.append(f"  {_label(code):<18} {n:>6}  {_pct(n, n_reasons):>4}")
    lines.append("")

    lines.append("Cases opened")
    lines.append(f"  {'kind':<18} {'opened':>6} {'still open':>11}")
    for kind, c in report["cases"].items():
        lines.append(f"  {_label(kind):<18} {c['opened']:>6} {c['open']:>11}")
    lines.append("")

    opt_outs = report["opt_outs"]
    lines.append(f"Contact opt-outs ({sum(opt_outs.values())})")
    lines.extend(f"  {_label(ch):<18} {n:>6}" for ch, n in opt_outs.items())
    lines.append("")

    h = report["handoffs"]
    lines.append(f"Handoffs to a person ({h['total']}, {h['urgent']} urgent)")
    lines.extend(f"  {_label(r):<18} {n:>6}" for r, n in h["by_reason"].items())
    lines.append("")

    flags = report["vulnerability_flags"]
    lines.append(f"Vulnerability flags ({sum(flags.values())})")
    lines.extend(f"  {_label(cat):<18} {n:>6}" for cat, n in flags.items())
    lines.append("")
    lines.extend(render_feedback(report["feedback"]))
    return "\n".join(lines)


def _share(rate: float | None) -> str:
    return f"{100 * rate:.0f}%" if rate is not None else "-"


def render_outcome_metrics(out: dict[str, Any]) -> list[str]:
    """What became of the period's agreements and loans (bot/services/outcomes.py)."""
    lines = [f"What became of them ({out['agreements']} agreements made in the period)"]
    lines.append(
        f"  completed {out['completed']}, broken {out['broken']}, still running {out['active']}; "
        f"time to agreement (median) {out['time_to_agreement_minutes'] if out['time_to_agreement_minutes'] is not None else '-'} min"
    )
    lines.append(
        f"  promises kept {_share(out['promise_kept_rate'])}, plans completed {_share(out['plan_completion_rate'])}, "
        f"broken {_share(out['broken_rate'])} (of those resolved)"
    )
    lines.append(
        f"  cured {_share(out['cure_rate'])} ({out['loans_cured']} of {out['loans_in_arrears']} loans in arrears), "
        f"contained {_share(out['containment_rate'])} (verified conversations without a person)"
    )
    if out["roll_rates"]:
        lines.append("  roll rates (bucket at the start -> at the end):")
        for start, ends in out["roll_rates"].items():
            lines.append(f"    {start:<8} " + ", ".join(f"{end} {_share(rate)}" for end, rate in ends.items()))
    for name, groups in out["by"].items():
        if not groups:
            continue
        parts = [
            f"{key} {g['agreements']} (kept {_share(g['promise_kept_rate'] if g['promise_kept_rate'] is not None else g['plan_completion_rate'])}, "
            f"broken {_share(g['broken_rate'])})"
            for key, g in groups.items()
        ]
        lines.append(f"  by {_label(name)}: " + "; ".join(parts))
    # loans: each in one group per breakdown (its latest reason, conversation, agreement in force)
    for name, groups in out.get("delinquency_by", {}).items():
        if not groups:
            continue
        cured = [
            f"{key} {_share(g['cure_rate'])} ({g['loans_cured']} of {g['loans_in_arrears']})"
            for key, g in groups.items()
        ]
        lines.append(f"  cured by {_label(name)}: " + ", ".join(cured))
        lines.append(f"  roll rates by {_label(name)}:")
        for key, g in groups.items():
            rolls = "; ".join(
                f"{start} -> " + ", ".join(f"{end} {_share(rate)}" for end, rate in ends.items())
                for start, ends in g["roll_rates"].items()
            )
            lines.append(f"    {key}: {rolls or '-'}")
    for name, groups in out.get("containment_by", {}).items():
        if not groups:
            continue
        contained = [
            f"{key} {_share(g['containment_rate'])} ({g['contained']} of {g['conversations']})"
            for key, g in groups.items()
        ]
        lines.append(f"  contained by {_label(name)}: " + ", ".join(contained))
    lines.append("")
    return lines


# ---------------------------------------------------------------- plot
# matplotlib 3.5 ships no type information, so its figures, axes and bars are Any here.


def write_plot(report: dict[str, Any], path: str | Path) -> Path:
    """One PNG with eight panels: agreements, reasons, the funnel, the attention counts, the
    outcome rates, what became of each kind of agreement, the roll rates between days-past-due
    buckets and what became of the agreements by reason code."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"matplotlib\b")
        return _write_plot(report, Path(path))


def _write_plot(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    period = report["period"]
    fig, axes = plt.subplots(4, 2, figsize=(14, 18), dpi=110)
    fig.suptitle(
        f"Collections report  {period['from']} to {period['to']} (UTC)",
        fontsize=16,
        fontweight="bold",
    )
    (ax_agr, ax_rsn), (ax_fun, ax_att), (ax_rates, ax_kinds), (ax_roll, ax_by_reason) = axes

    def annotate(ax: Any, bars: Iterable[Any], labels: Iterable[str], horizontal: bool = True) -> None:
        for bar, text in zip(bars, labels, strict=False):
            if horizontal:
                ax.annotate(
                    text,
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=10,
                )
            else:
                ax.annotate(
                    text,
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=10,
                )

    def headroom(ax: Any, values: Iterable[int], horizontal: bool = True) -> None:
        top = max([0, *values])
        limit = max(1, top) * 1.25
        (ax.set_xlim if horizontal else ax.set_ylim)(0, limit)

    def integer_axis(ax: Any, horizontal: bool = True) -> None:
        from matplotlib.ticker import MaxNLocator

        (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))

    # 1. agreements by kind (active share stacked inside)
    by_kind = report["agreements"]["by_kind"]
    kinds = list(by_kind)
    counts = [by_kind[k]["count"] for k in kinds]
    actives = [by_kind[k]["active"] for k in kinds]
    y = range(len(kinds))
    ax_agr.barh(y, counts, color="#9ecae1", label="recorded")
    ax_agr.barh(y, actives, color="#3182bd", label="still active")
    money = [", ".join(f"{c} {a}" for c, a in by_kind[k]["amounts"].items()) for k in kinds]
    annotate(
        ax_agr, ax_agr.patches[: len(kinds)], [f"{n}  {m}" if n else "0" for n, m in zip(counts, money, strict=False)]
    )
    ax_agr.set_yticks(list(y))
    ax_agr.set_yticklabels([_label(k) for k in kinds])
    ax_agr.invert_yaxis()
    headroom(ax_agr, counts)
    ax_agr.set_xlim(0, ax_agr.get_xlim()[1] * 1.3)  # room for the amounts
    integer_axis(ax_agr)
    ax_agr.set_title(f"Agreements by kind ({sum(counts)})", fontsize=13, loc="left")
    ax_agr.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=9, frameon=False)

    # 2. reasons by code, largest on top
    reasons = report["reasons"]
    total_reasons = sum(reasons.values())
    if reasons:
        codes = sorted(reasons, key=lambda c: (-reasons[c], c))
        values = [reasons[c] for c in codes]
        bars = ax_rsn.barh(range(len(codes)), values, color="#fd8d3c")
        annotate(ax_rsn, bars, [f"{v}  ({_pct(v, total_reasons)})" for v in values])
        ax_rsn.set_yticks(range(len(codes)))
        ax_rsn.set_yticklabels([_label(c) for c in codes])
        ax_rsn.invert_yaxis()
        headroom(ax_rsn, values)
        integer_axis(ax_rsn)
    else:
        _empty(ax_rsn, "no reasons recorded")
    ax_rsn.set_title(f"Why payments were missed ({total_reasons})", fontsize=13, loc="left")

    # 3. outcome funnel
    conv = report["conversations"]
    stages = ["conversations\nstarted", "identity\nverified", "agreements\nrecorded", "decision\ndeferred"]
    values = [conv["started"], conv["verified"], _agreement_total(report), report["outcomes"]["deferred"]]
    bars = ax_fun.barh(range(4), values, color=["#c7e9c0", "#74c476", "#238b45", "#fdae6b"])
    labels = [
        str(values[0]),
        _with_rate(values[1], values[0], "of started"),
        _with_rate(values[2], values[1], "of verified"),
        _with_rate(values[3], values[1], "of verified"),
    ]
    annotate(ax_fun, bars, labels)
    ax_fun.set_yticks(range(4))
    ax_fun.set_yticklabels(stages)
    ax_fun.invert_yaxis()
    headroom(ax_fun, values)
    ax_fun.set_xlim(0, ax_fun.get_xlim()[1] * 1.2)
    integer_axis(ax_fun)
    ax_fun.set_title("Outcomes", fontsize=13, loc="left")

    # 4. things that need a person's attention
    h = report["handoffs"]
    cases = report["cases"]
    attention = [
        ("handoffs", h["total"], f"{h['total']}  ({h['urgent']} urgent)"),
        ("disputes", cases.get("dispute", {}).get("opened", 0), None),
        ("fraud claims", cases.get("fraud_claim", {}).get("opened", 0), None),
        ("payment claims", cases.get("payment_claim", {}).get("opened", 0), None),
        ("opt-outs", sum(report["opt_outs"].values()), None),
        ("vulnerability\nflags", sum(report["vulnerability_flags"].values()), None),
        ("verification\nlockouts", conv["locked_out"], None),
    ]
    values = [v for _, v, _ in attention]
    bars = ax_att.barh(range(len(attention)), values, color="#9e9ac8")
    annotate(ax_att, bars, [text or str(v) for _, v, text in attention])
    ax_att.set_yticks(range(len(attention)))
    ax_att.set_yticklabels([name for name, _, _ in attention])
    ax_att.invert_yaxis()
    headroom(ax_att, values)
    integer_axis(ax_att)
    ax_att.set_title("Needs attention", fontsize=13, loc="left")

    _outcome_panels(ax_rates, ax_kinds, report["outcomes"], annotate)
    roll_rate_panel(ax_roll, report["outcomes"]["roll_rates"])
    _stacked_outcomes(ax_by_reason, report["outcomes"]["by"]["reason_code"], "no agreements made in the period")
    ax_by_reason.set_title("What became of the agreements, by reason", fontsize=13, loc="left")

    for ax in (ax_agr, ax_rsn, ax_fun, ax_att, ax_rates, ax_kinds, ax_by_reason):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="y", labelsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)

    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _outcome_panels(ax_rates: Any, ax_kinds: Any, out: dict[str, Any], annotate: Any) -> None:
    """5. the outcome rates; 6. what became of each kind of agreement (issue 14)."""
    rates = [
        ("promises kept", out["promise_kept_rate"]),
        ("plans completed", out["plan_completion_rate"]),
        ("agreements broken", out["broken_rate"]),
        ("loans cured", out["cure_rate"]),
        ("resolved without\na person", out["containment_rate"]),
    ]
    values = [100 * (r or 0) for _, r in rates]
    bars = ax_rates.barh(range(len(rates)), values, color=["#31a354", "#31a354", "#de2d26", "#3182bd", "#756bb1"])
    annotate(ax_rates, bars, [_share(r) for _, r in rates])
    ax_rates.set_yticks(range(len(rates)))
    ax_rates.set_yticklabels([name for name, _ in rates])
    ax_rates.invert_yaxis()
    ax_rates.set_xlim(0, 115)
    ax_rates.set_xlabel("%")
    ax_rates.set_title("Outcome rates", fontsize=13, loc="left")

    _stacked_outcomes(ax_kinds, out["by"]["offer_kind"], "no agreements made in the period")
    ax_kinds.set_title("What became of each kind of agreement", fontsize=13, loc="left")


def _stacked_outcomes(ax: Any, groups: dict[str, dict[str, Any]], empty: str) -> None:
    """Completed, active and broken agreements per group (offer kind, reason code)."""
    if not groups:
        _empty(ax, empty)
        return
    names = list(groups)
    y = range(len(names))
    left = [0] * len(names)
    for status, color in (("completed", "#31a354"), ("active", "#bdbdbd"), ("broken", "#de2d26")):
        counts = [groups[k][status] for k in names]
        ax.barh(y, counts, left=left, color=color, label=status)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_yticks(list(y))
    ax.set_yticklabels([_label(k) for k in names])
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=9)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def roll_rate_panel(ax: Any, roll_rates: dict[str, dict[str, float | None]]) -> None:
    """The roll-rate matrix: for loans in each days-past-due bucket at the period's start
    (rows), the share in each bucket at its end (columns), as shaded cells with percentages."""
    ax.set_title("Roll rates: bucket at the start (rows) to the end", fontsize=13, loc="left")
    if not roll_rates:
        _empty(ax, "no loans in the period")
        return
    buckets = [b for b in DPD_BUCKETS if b in roll_rates or any(b in ends for ends in roll_rates.values())]
    starts = [b for b in buckets if b in roll_rates]
    grid = [[100 * (roll_rates[start].get(end) or 0) for end in buckets] for start in starts]
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for row, start in enumerate(starts):
        for col, end in enumerate(buckets):
            if end in roll_rates[start]:
                share = grid[row][col]
                ax.text(
                    col,
                    row,
                    _share(roll_rates[start][end]),
                    ha="center",
                    va="center",
                    fontsize=11,
                    color="white" if share > 60 else "black",
                )
    ax.set_xticks(range(len(buckets)))
    ax.set_xticklabels(buckets)
    ax.set_yticks(range(len(starts)))
    ax.set_yticklabels(starts)
    ax.set_xlabel("days past due at the end")
    ax.set_ylabel("days past due at the start")


def _with_rate(part: int, whole: int, of: str) -> str:
    """ "2  (50% of started)"; just the count when a rate would mislead (no base, above 100%)."""
    return f"{part}  ({_pct(part, whole)} {of})" if whole and part <= whole else str(part)


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="grey", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
