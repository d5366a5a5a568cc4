"""Operator command line: `python -m bot COMMAND` (also installed as `debt-assistant`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain.accounts import CASE_OUTCOMES
from bot.domain.escalation import REVIEW_DECISIONS

# Each command imports what it uses when it runs: the loan store (SQLAlchemy, and the
# parsing behind the rules: dateparser, cn2an) only for the commands that open it, so a
# command that needs only the settings (migrate, endpoints, web, cluster, bench) starts
# without them (the tests run this CLI in a subprocess a hundred times).
if TYPE_CHECKING:
    from bot.bootstrap import Services
    from bot.settings import Settings


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.migrate import upgrade

    upgrade(settings.database_url)
    print("Loan store is at the latest schema.")
    return 0


def cmd_seed_demo(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.clock import local_today
    from bot.ops.demo import seed_demo

    settings = app.settings
    result = seed_demo(app.store, local_today(settings.default_timezone))
    print(f"Demo portfolio loaded: {result['created']} loans created, {result['updated']} updated.")
    if not settings.production:  # a known password is for development only
        from bot.ops.console.demo import seed_demo_operator

        name, password = seed_demo_operator(app.store)
        print(f"Team console demo operator: {name} / {password} (admin; development only).")
    return 0


def cmd_import_loans(args: argparse.Namespace, app: Services) -> int:
    from bot.ops.importer import ImportRejected, read_loans_csv

    try:
        rows = read_loans_csv(Path(args.file))
    except ImportRejected as rejected:
        print(f"Rejected {args.file}: nothing was imported.", file=sys.stderr)
        for error in rejected.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    created, updated = app.store.upsert_loans(rows)
    print(f"Imported {len(rows)} rows: {created} loans created, {updated} updated.")
    return 0


def cmd_import_payments(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.clock import utcnow
    from bot.domain.payments import PaymentsRefused
    from bot.ops.importer import RowError
    from bot.ops.payments_import import check_payments_csv

    now = utcnow()
    payments, lines, errors = check_payments_csv(Path(args.file), now)
    try:
        if errors:  # the good rows are still checked against the store, so every bad line is named at once
            raise PaymentsRefused(app.store.payment_problems(payments))
        counts = app.store.import_payments(payments, rules_for=_agreement_rules(app), now=now)
    except PaymentsRefused as refused:
        found = errors + [RowError(lines[position], reason) for position, reason in refused.problems]
        problems = [str(error) for error in sorted(found, key=lambda error: error.line)]
    else:
        print(
            f"Imported {len(payments)} payments: {counts['recorded']} recorded, "
            f"{counts['already_recorded']} already recorded."
        )
        return 0
    print(f"Rejected {args.file}: nothing was imported.", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def _agreement_rules(app: Services):
    """Each product's agreement rules (collections_policy.yml: grace days, when a plan breaks)."""
    return lambda product: app.policies.for_product(product).agreements


def cmd_payments(args: argparse.Namespace, app: Services) -> int:
    from decimal import Decimal

    from bot.domain.parsing import normalise_loan_ref

    loan_ref = (normalise_loan_ref(args.loan) or args.loan) if args.loan else None
    payments = app.store.payments(limit=args.limit, loan_ref=loan_ref)
    if args.json:
        print(json.dumps(payments, indent=2, ensure_ascii=False))
        return 0
    if not payments:
        print("No payments yet.")
    for p in payments:
        if p["status"] == "refused":
            where = f"refused: {p['refusal_reason']}"
        else:
            parts = [f"{a['agreement_ref']} #{a['sequence']} {a['amount']}" for a in p["allocations"]]
            if Decimal(p["to_balance"]):
                parts.append(f"balance {p['to_balance']}")
            if Decimal(p["unapplied"]):
                parts.append(f"unapplied {p['unapplied']} (to refund)")
            where = ", ".join(parts) or "-"
        print(
            f"{p['payment_id']:<24} {p['loan_ref']:<10} {p['paid_at'][:16]}  {p['amount']:>10} {p['currency']}  "
            f"{p['method']:<14} {p['source']:<7} {where}"
        )
    return 0


def cmd_feedback(args: argparse.Namespace, app: Services) -> int:
    """Borrowers' answers to the feedback question, newest first (comments masked)."""
    answers = app.store.feedback(limit=args.limit)
    if args.json:
        print(json.dumps(answers, indent=2, ensure_ascii=False))
        return 0
    if not answers:
        print("No feedback yet.")
    for f in answers:
        rating = f"{f['rating']}/5" if f["rating"] is not None else "skipped"
        print(
            f"{f['feedback_ref']:<12} {f['loan_ref']:<10} {(f['answered_at'] or '')[:16]}  {rating:<8} "
            f"{f['channel'] or '-':<9} {f['language']:<3} {f['comment'] or ''}"
        )
    return 0


def cmd_agreements(args: argparse.Namespace, app: Services) -> int:
    agreements = app.store.agreements()
    if args.json:
        print(json.dumps([a.to_json() for a in agreements], indent=2))
        return 0
    if not agreements:
        print("No agreements yet.")
    for a in agreements:
        print(
            f"{a.agreement_ref}  {a.loan_ref}  {a.kind:<16} {a.status:<10} "
            f"{a.total_amount} {a.currency}  {len(a.instalments)} instalment(s)  {a.created_at:%Y-%m-%d %H:%M %Z}"
        )
    return 0


def cmd_loan(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.accounts import UnknownLoan
    from bot.domain.parsing import normalise_loan_ref

    ref = normalise_loan_ref(args.loan_ref) or args.loan_ref
    try:
        report = app.store.loan_report(ref)
    except UnknownLoan:
        print(f"No loan with reference {args.loan_ref!r}.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{report['loan_ref']}  {report['product']}  {report['borrower']['full_name']}")
    print(
        f"  overdue {report['overdue_amount']} {report['currency']}, {report['days_past_due']} days past due, "
        f"outstanding {report['outstanding_balance']}, status {report['status']}, market {report['market']}"
    )
    for r in report["reasons"]:
        print(f"  reason  {r['recorded_at'][:16]}  {r['reason_code']}: {r['borrower_words'] or ''}")
    for a in report["agreements"]:
        print(f"  agreement {a['agreement_ref']} {a['kind']} {a['status']} {a['total_amount']}")
    for p in report["payments"]:
        print(f"  payment {p['payment_id']}  {p['paid_at'][:16]}  {p['amount']} {p['status']}")
    for e in report["audit_events"]:
        print(f"  event   {e['occurred_at'][:19]}  {e['event_type']}")
    return 0


def cmd_report(args: argparse.Namespace, app: Services) -> int:
    from bot.services.reporting import build_report, default_period, parse_day, render_text, write_plot

    try:
        start = parse_day(args.date_from) if args.date_from else None
        end = parse_day(args.date_to) if args.date_to else None
    except ValueError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    end = end or default_period()[1]
    start = start or default_period(end)[0]
    if start > end:
        print(f"report: --from {start} is after --to {end}.", file=sys.stderr)
        return 2
    report = build_report(app.store, start, end)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(render_text(report), end="")
    if args.plot:
        write_plot(report, args.plot)
        print(f"Chart written to {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_remind(args: argparse.Namespace, app: Services) -> int:
    from datetime import datetime

    from bot.adapters.rasa_trigger import RasaTrigger
    from bot.domain.clock import utcnow
    from bot.services.reminders import ReminderRules, plan_reminders, run_reminders, summary

    settings = app.settings
    try:
        now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else utcnow()
        if now.tzinfo is None:
            raise ValueError("--now needs a UTC offset, e.g. 2026-11-23T10:00:00+00:00")
        rules = ReminderRules.from_settings(settings)
    except ValueError as error:
        print(f"remind: {error}", file=sys.stderr)
        return 2
    policies = app.policies
    rules = rules.with_grace_days(
        {product: policies.for_product(product).agreements.grace_days for product in policies.products},
        policies.default.agreements.grace_days,
    )
    db = app.store.db
    if args.review_only:
        with db.exclusive("remind") as only_run:
            if not only_run:
                print("remind: another run is in progress; nothing reviewed", file=sys.stderr)
                return 3
            reviewed = {
                "agreements": app.store.review_agreements(rules_for=_agreement_rules(app), now=now),
                "escalations": _review_escalations(app, now),
            }
        print(json.dumps({"now": now.isoformat(), **reviewed}, indent=2) if args.json else f"Reviewed: {reviewed}")
        return 0
    if args.dry_run:
        plan = plan_reminders(app.store, rules, now)
        if args.json:
            print(json.dumps({"now": now.isoformat(), "dry_run": True, "plan": [r.to_json() for r in plan]}, indent=2))
            return 0
        print(f"Dry run at {now.isoformat()}: nobody is contacted, nothing is recorded.")
        for r in plan:
            print(
                f"{r.loan_ref:<12} {r.trigger:<18} {r.channel:<9} " + ("send" if r.send else f"skip: {r.skip_reason}")
            )
        to_send = sum(r.send for r in plan)
        print(f"{to_send} to send, {len(plan) - to_send} to skip.")
        return 0
    with db.exclusive("remind") as only_run:
        if not only_run:  # two runs at once would both see the same loans as due
            print("remind: another run is in progress; nothing sent", file=sys.stderr)
            return 3
        # Misses and broken agreements first (written and audited), so only real misses are reminded.
        review = app.store.review_agreements(rules_for=_agreement_rules(app), now=now)
        escalations = _review_escalations(app, now)
        results = run_reminders(app.store, rules, now, RasaTrigger(settings.rasa_url, settings.rasa_token))
    counts = summary(results)
    if args.json:
        print(
            json.dumps(
                {
                    "now": now.isoformat(),
                    "dry_run": False,
                    **counts,
                    "agreements": review,
                    "escalations": escalations,
                    "results": [r.to_json() for r in results],
                },
                indent=2,
            )
        )
    else:
        for result in results:
            if result.outcome == "failed":
                reminder = result.reminder
                print(
                    f"failed: {reminder.loan_ref} {reminder.trigger} {reminder.channel}: {result.reason}",
                    file=sys.stderr,
                )
        if review["missed"] or review["broken"]:
            print(f"Agreements reviewed: {review['missed']} instalment(s) newly missed, {review['broken']} broken.")
        if any(escalations.values()):
            print(
                f"Escalations: {escalations['opened']} final notice(s) opened, "
                f"{escalations['queued_for_review']} queued for a person's review, {escalations['withdrawn']} withdrawn."
            )
        print(
            f"Reminders at {now.isoformat()}: {counts['sent']} sent, {counts['skipped']} skipped, {counts['failed']} failed."
        )
    return 1 if counts["failed"] else 0


def _review_escalations(app: Services, now) -> dict[str, int]:
    policies = app.policies
    floor = min(policies.for_product(p).escalation.min_days_past_due for p in ("", *policies.products))
    return app.store.review_escalations(
        policy_for=lambda product: policies.for_product(product).escalation, floor_days_past_due=floor, now=now
    )


def cmd_escalations(args: argparse.Namespace, app: Services) -> int:
    escalations = app.store.escalations(status=None if args.all else "open")
    # what a person should look at first: the reviews due, then the oldest
    escalations.sort(key=lambda e: (e.stage != "legal_review", e.opened_at))
    if args.json:
        print(json.dumps([e.to_json() for e in escalations], indent=2, ensure_ascii=False))
        return 0
    if not escalations:
        print("No escalations in progress." if not args.all else "No escalations.")
    for e in escalations:
        d = e.details
        if e.status != "open":
            state = f"{e.status}: {e.outcome}"
        elif e.stage == "legal_review":
            state = f"for a person's review since {e.review_queued_at:%Y-%m-%d}"
        elif e.notified_at is None:
            state = "final notice not yet given to the borrower"
        else:
            state = f"final notice given {e.notified_at:%Y-%m-%d}"
        print(
            f"{e.escalation_ref}  {e.loan_ref:<10} {e.stage:<12} opened {e.opened_at:%Y-%m-%d}  "
            f"{d.get('days_past_due')} days past due, {d.get('overdue_amount')} {d.get('currency')} overdue, "
            f"{d.get('broken_agreements')} broken, {d.get('refusals')} refused  {state}"
        )
    return 0


def cmd_review_escalation(args: argparse.Namespace, app: Services) -> int:
    return _follow_up(
        "escalation",
        args.escalation_ref,
        lambda ref: app.store.review_escalation(ref, args.decision, by=args.by, note=args.note),
        f"Escalation {{ref}} reviewed: {args.decision}. The assistant takes no legal step; that is the lender's.",
        "Escalation {ref} was already closed; nothing changed.",
    )


def cmd_notice_sent(args: argparse.Namespace, app: Services) -> int:
    return _follow_up(
        "escalation",
        args.escalation_ref,
        lambda ref: app.store.record_final_notice(ref, how=args.how, by=args.by),
        "Final notice of {ref} recorded as given; the notice period starts now.",
        "Escalation {ref} is closed or its final notice was already given; nothing changed.",
    )


def cmd_record_refusal(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.accounts import UnknownLoan
    from bot.domain.parsing import normalise_loan_ref

    ref = normalise_loan_ref(args.loan_ref) or args.loan_ref
    try:
        app.store.record_refusal(ref, by=args.by, note=args.note)
    except UnknownLoan:
        print(f"No loan with reference {args.loan_ref!r}.", file=sys.stderr)
        return 1
    print(f"{ref}: refusal recorded (escalation counts refusals; collections_policy.yml).")
    return 0


def cmd_offers(args: argparse.Namespace, app: Services) -> int:
    """What offer learning knows (per segment and plan length), or its simulation."""
    settings = app.settings
    if args.simulate:
        from bot.ops.offers_simulation import render_text, run, write_plot

        if args.days < 30 or args.per_day < 1:
            print("offers: --days must be at least 30 and --per-day at least 1", file=sys.stderr)
            return 2
        result = run(
            app.policies,
            seed=args.seed,
            days=args.days,
            per_day=args.per_day,
            exploration=settings.offer_exploration,
            segment_fields=settings.offer_segment_fields(),
        )
        print(json.dumps(result, indent=2) if args.json else render_text(result), end="\n" if args.json else "")
        if args.plot:
            write_plot(result, args.plot)
            print(f"Chart written to {args.plot}", file=sys.stderr if args.json else sys.stdout)
        return 0
    from bot.domain.offer_learning import Arm
    from bot.services.offer_ranking import outcomes_by_segment

    fields = settings.offer_segment_fields()
    segments = outcomes_by_segment(app.store.plan_outcomes(), fields)
    known = {
        segment: {
            str(months): {"kept": k, "broken": b, "posterior_mean": round(Arm(months, k, b).mean, 4)}
            for months, (k, b) in sorted(arms.items())
        }
        for segment, arms in sorted(segments.items())
    }
    summary = {
        "learning": "on" if settings.offer_learning else "off",
        "exploration": settings.offer_exploration,
        "segments": list(fields),
        "outcomes": known,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(
        f"Offer learning is {summary['learning']} (OFFER_LEARNING); exploration {settings.offer_exploration}; "
        f"segments by {', '.join(fields) or 'nothing (one segment)'}."
    )
    if not known:
        print("No plan chosen from the menu has been completed or broken yet.")
    for segment, arms in known.items():
        print(f"  {segment}")
        for months, a in arms.items():
            print(
                f"    {months:>2} months: kept {a['kept']}, broken {a['broken']}, posterior mean {a['posterior_mean']:.2f}"
            )
    return 0


def cmd_cases(args: argparse.Namespace, app: Services) -> int:
    cases = app.store.cases(status=None if args.all else "open")
    if args.json:
        print(json.dumps(cases, indent=2, ensure_ascii=False))
        return 0
    if not cases:
        print("No open cases." if not args.all else "No cases.")
    for c in cases:
        outcome = (c["details"] or {}).get("outcome")
        print(
            f"{c['case_ref']}  {c['loan_ref']}  {c['kind']:<14} {c['status']:<7} opened {c['opened_at'][:16]}"
            + (f"  outcome {outcome}" if outcome else "")
        )
        if c["borrower_words"]:
            print(f'    "{c["borrower_words"][:200]}"')
    return 0


def _follow_up(kind: str, ref: str, step, done: str, unchanged: str) -> int:
    """One step of the team's follow-up on a case or handoff, by its reference."""
    from bot.domain.accounts import UnknownReference

    ref = ref.strip().upper()
    try:
        changed = step(ref)
    except UnknownReference:
        print(f"No {kind} with reference {ref!r}.", file=sys.stderr)
        return 1
    print((done if changed else unchanged).format(ref=ref))
    return 0


def cmd_close_case(args: argparse.Namespace, app: Services) -> int:
    return _follow_up(
        "case",
        args.case_ref,
        lambda ref: app.store.close_case(ref, args.outcome, by=args.by, note=args.note),
        f"Case {{ref}} closed ({args.outcome}).",
        "Case {ref} was already closed; nothing changed.",
    )


def cmd_handoffs(args: argparse.Namespace, app: Services) -> int:
    handoffs = app.store.handoffs(status=None if args.all else "queued")
    # what a person should pick up first: urgent, then the earliest promised reply
    handoffs.sort(key=lambda h: (h["priority"] != "urgent", h["reply_by"] or "", h["created_at"]))
    if args.json:
        print(json.dumps(handoffs, indent=2, ensure_ascii=False))
        return 0
    if not handoffs:
        print("Nobody is waiting for a person." if not args.all else "No handoffs.")
    for h in handoffs:
        print(
            f"{h['handoff_ref']}  {h['priority']:<6} {h['reason']:<14} {h['loan_ref'] or '-':<10} "
            f"{h['channel'] or '-':<9} {h['status']:<6} reply by {(h['reply_by'] or '-')[:16]}"
        )
    if handoffs:
        print("Transcripts: python -m bot handoffs --json")
    return 0


def cmd_complete_handoff(args: argparse.Namespace, app: Services) -> int:
    from bot.adapters.rasa_conversations import RasaConversations, RasaUnavailable
    from bot.domain.accounts import UnknownReference

    try:  # taken over in the console: the assistant answers again before the handoff closes
        handoff = app.store.handoff(args.handoff_ref.strip().upper())
    except UnknownReference:
        handoff = None
    if handoff and handoff["status"] == "queued" and handoff["taken_over_at"]:
        settings = app.settings
        try:
            RasaConversations(settings.rasa_url, settings.rasa_token).resume(handoff["conversation_id"])
        except RasaUnavailable as down:
            print(
                f"complete-handoff: {handoff['claimed_by']} has taken this conversation over and the assistant "
                f"could not be resumed ({down}); nothing changed.",
                file=sys.stderr,
            )
            return 1
    return _follow_up(
        "handoff",
        args.handoff_ref,
        lambda ref: app.store.complete_handoff(ref, by=args.by, note=args.note),
        "Handoff {ref} marked done.",
        "Handoff {ref} was already done; nothing changed.",
    )


def cmd_clear_vulnerability(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.accounts import UnknownLoan
    from bot.domain.parsing import normalise_loan_ref

    ref = normalise_loan_ref(args.loan_ref) or args.loan_ref
    try:
        cleared = app.store.clear_vulnerability(ref, by=args.by, note=args.note)
    except UnknownLoan:
        print(f"No loan with reference {args.loan_ref!r}.", file=sys.stderr)
        return 1
    print(
        f"{ref}: the vulnerability flag is cleared; the assistant may discuss payment again."
        if cleared
        else f"{ref}: the borrower was not flagged; nothing changed."
    )
    return 0


def cmd_lift_verification_lock(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.accounts import UnknownLoan
    from bot.domain.parsing import normalise_loan_ref

    ref = normalise_loan_ref(args.loan_ref) or args.loan_ref
    try:
        lifted = app.store.lift_verification_lock(ref, by=args.by, note=args.note)
    except UnknownLoan:
        print(f"No loan with reference {args.loan_ref!r}.", file=sys.stderr)
        return 1
    print(
        f"{ref}: failed verifications forgotten ({', '.join(lifted)}); the borrower can verify in chat again."
        if lifted
        else f"{ref}: no failed verifications to forget; nothing changed."
    )
    return 0


def cmd_endpoints(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.endpoints import write_credentials, write_endpoints
    from bot.settings import PROJECT_ROOT

    path = write_endpoints(Path(args.out), settings, action_server_url=args.action_server_url)
    credentials = write_credentials(
        Path(args.out).with_name("credentials.yml"), settings, PROJECT_ROOT / "credentials.yml"
    )
    print(f"Rasa endpoints written to {path}, channels to {credentials}")
    return 0


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.web import serve

    serve(
        settings,
        host=args.host,
        port=args.port or settings.web_port,
        socket_url=args.socket_url or settings.public_base_url,
    )
    return 0


def cmd_console(args: argparse.Namespace, app: Services) -> int:
    from bot.ops.console.app import serve

    serve(app.settings, app.store, host=args.host, port=args.port or app.settings.console_port)
    return 0


def _read_password(prompt: str) -> str:
    """From the terminal (asked twice, not echoed), or the first line of standard input."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_operators(args: argparse.Namespace, app: Services) -> int:
    from bot.domain.operators import InvalidOperator, check_password
    from bot.ops.console.security import hash_password

    store = app.store
    try:
        if args.action == "add":
            password = check_password(_read_password(f"Password for {args.name}: "))
            operator = store.add_operator(args.name, args.role, hash_password(password), by=args.by)
            print(f"Operator {operator.name} added ({operator.role}); they log in at the console.")
        elif args.action == "set":
            new_hash = None
            if args.password:
                new_hash = hash_password(check_password(_read_password(f"New password for {args.name}: ")))
            active = None if args.active is None else args.active == "yes"
            operator = store.update_operator(
                args.name.strip().lower(), by=args.by, role=args.role, active=active, password_hash=new_hash
            )
            print(f"Operator {operator.name}: {operator.role}, {'active' if operator.active else 'inactive'}.")
        else:
            operators = store.operators()
            if not operators:
                print("No operators yet: python -m bot operators add NAME --role admin")
            for o in operators:
                last = f"{o.last_login_at:%Y-%m-%d %H:%M}" if o.last_login_at else "never"
                print(f"{o.name:<24} {o.role:<10} {'active' if o.active else 'inactive':<8} last log-in {last}")
    except (InvalidOperator, ValueError) as bad:
        print(f"operators: {bad}", file=sys.stderr)
        return 2
    return 0


def cmd_cluster(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from bot.ops.cluster import run

    models = sorted(Path("models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    model = Path(args.model) if args.model else (models[-1] if models else None)
    if model is None or not model.exists():
        print("cluster: no trained model; run `rasa train` first or pass --model", file=sys.stderr)
        return 2
    return run(
        settings,
        replicas=args.replicas,
        action_servers=args.action_servers,
        port=args.port,
        model=model.resolve(),
        env=dict(os.environ),
        work=Path(args.work).resolve(),
    )


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.bench import PROFILES, main_profiles
    from bot.ops.bench import main as bench

    if args.profile:
        profiles = [p.strip() for p in args.profile.split(",") if p.strip()]
        if not profiles or any(p not in PROFILES for p in profiles):
            print(f"bench: --profile takes {' or '.join(PROFILES)}, comma-separated", file=sys.stderr)
            return 2
        model = Path(args.model) if args.model else None
        return main_profiles(
            profiles,
            args.conversations,
            args.concurrency,
            args.long_turns,
            args.baseline,
            args.json,
            model,
            production_layout=args.production_layout,
        )
    return bench(args.url.rstrip("/"), args.conversations, args.concurrency, args.long_turns, args.baseline, args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the loan store schema").set_defaults(func=cmd_migrate)
    sub.add_parser("seed-demo", help="load the demo portfolio (idempotent)").set_defaults(func=cmd_seed_demo)
    p = sub.add_parser("import-loans", help="import or update loans from a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_loans)
    p = sub.add_parser("import-payments", help="record payments from a CSV file (all rows or none; idempotent)")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_payments)
    p = sub.add_parser("payments", help="recent payments and how each was allocated, newest first")
    p.add_argument("--loan", metavar="LOAN_REF", help="only this loan's")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_payments)
    p = sub.add_parser("agreements", help="list recorded agreements")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_agreements)
    p = sub.add_parser("loan", help="show one loan with its reasons, agreements and audit events")
    p.add_argument("loan_ref")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_loan)
    p = sub.add_parser("cases", help="disputes, fraud and payment claims to look into (open ones by default)")
    p.add_argument("--all", action="store_true", help="closed cases too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cases)
    p = sub.add_parser(
        "close-case", help="close a case; the collection hold ends with the last open dispute or fraud claim"
    )
    p.add_argument("case_ref")
    p.add_argument("--outcome", required=True, choices=CASE_OUTCOMES, help="upheld: the borrower was right")
    p.add_argument("--by", required=True, help="who decided (kept in the audit log)")
    p.add_argument("--note", help="why (kept in the audit log)")
    p.set_defaults(func=cmd_close_case)
    p = sub.add_parser("handoffs", help="conversations waiting for a person, urgent first")
    p.add_argument("--all", action="store_true", help="done ones too")
    p.add_argument("--json", action="store_true", help="with the transcripts")
    p.set_defaults(func=cmd_handoffs)
    p = sub.add_parser("complete-handoff", help="mark a handoff as picked up by a person")
    p.add_argument("handoff_ref")
    p.add_argument("--by", required=True)
    p.add_argument("--note")
    p.set_defaults(func=cmd_complete_handoff)
    p = sub.add_parser("clear-vulnerability", help="after a person's review, let the assistant discuss payment again")
    p.add_argument("loan_ref")
    p.add_argument("--by", required=True)
    p.add_argument("--note", required=True, help="what was agreed with the borrower")
    p.set_defaults(func=cmd_clear_vulnerability)
    p = sub.add_parser(
        "lift-verification-lock",
        help="after a person has checked the borrower, let them verify in chat again (docs/deploy.md)",
    )
    p.add_argument("loan_ref")
    p.add_argument("--by", required=True, help="who checked the borrower (kept in the audit log)")
    p.add_argument("--note", required=True, help="how they were checked (kept in the audit log)")
    p.set_defaults(func=cmd_lift_verification_lock)
    p = sub.add_parser("report", help="summary for a date range (default: the last 30 days, UTC)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day, inclusive (UTC)")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day, inclusive (UTC; default today)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", help="also write a chart of the summary")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("feedback", help="borrowers' answers to the feedback question, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser("remind", help="send due payment reminders through Rasa (run from cron)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and reasons; contact nobody, write nothing")
    p.add_argument(
        "--review-only",
        action="store_true",
        help="only mark missed instalments, broken agreements and escalations; contact nobody",
    )
    p.add_argument(
        "--now", metavar="ISO-8601", help="the time to plan for (default: now), e.g. 2026-11-23T10:00:00+00:00"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_remind)
    p = sub.add_parser("escalations", help="loans escalated for unwillingness to pay: final notices and reviews due")
    p.add_argument("--all", action="store_true", help="closed ones too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_escalations)
    p = sub.add_parser("review-escalation", help="a person's decision on an escalation (never automatic legal action)")
    p.add_argument("escalation_ref")
    p.add_argument("--decision", required=True, choices=REVIEW_DECISIONS)
    p.add_argument("--by", required=True, help="who decided (kept in the audit log)")
    p.add_argument("--note", help="why (kept in the audit log)")
    p.set_defaults(func=cmd_review_escalation)
    p = sub.add_parser("notice-sent", help="the final notice was given another way (a letter): its period starts")
    p.add_argument("escalation_ref")
    p.add_argument("--how", required=True, help="e.g. letter")
    p.add_argument("--by", required=True)
    p.set_defaults(func=cmd_notice_sent)
    p = sub.add_parser("record-refusal", help="the borrower refused to pay or arrange anything (told to a person)")
    p.add_argument("loan_ref")
    p.add_argument("--by", required=True, help="who spoke with the borrower (kept in the audit log)")
    p.add_argument("--note", required=True, help="what the borrower said (kept in the audit log)")
    p.set_defaults(func=cmd_record_refusal)
    p = sub.add_parser("offers", help="what offer learning knows, or --simulate it against the fixed menu")
    p.add_argument("--simulate", action="store_true", help="run it on a generated portfolio (README)")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--days", type=int, default=720)
    p.add_argument("--per-day", type=int, default=40, help="agreements a day")
    p.add_argument("--plot", metavar="FILE.png", help="with --simulate: the kept rates over time")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_offers)
    p = sub.add_parser("endpoints", help="write Rasa's endpoints file from settings (the deployment profile)")
    p.add_argument("--out", default="var/endpoints.yml")
    p.add_argument("--action-server-url", help="override ACTION_SERVER_URL (e.g. another port)")
    p.set_defaults(func=cmd_endpoints)
    p = sub.add_parser("cluster", help="run N Rasa replicas and M action servers behind nginx (docs/deploy.md)")
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--action-servers", type=int, default=1)
    p.add_argument("--port", type=int, default=8000, help="nginx listens here; action servers on PORT+1")
    p.add_argument("--model", help="model archive (default: the newest in models/)")
    p.add_argument("--work", default="var/cluster", help="configuration, logs and process ids")
    p.set_defaults(func=cmd_cluster)
    p = sub.add_parser("bench", help="load figures for a running deployment (see README)")
    p.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa (or the cluster's nginx)")
    p.add_argument("--conversations", type=int, default=200, help="whole debt conversations at saturation")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--long-turns", type=int, default=200)
    p.add_argument("--baseline", action="store_true", help="also drive the stock `rasa init` assistant")
    p.add_argument(
        "--profile",
        help="start these profiles itself instead of driving --url: embedded, production or embedded,production",
    )
    p.add_argument("--model", help="with --profile: the model to serve (default: the newest in models/)")
    p.add_argument(
        "--production-layout",
        choices=("in-process", "action-server"),
        default="in-process",
        help="with --profile production: two replicas running the actions themselves (default), "
        "or one replica and one action server",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("console", help="serve the team console (CONSOLE_PORT, default 8090; README 'Team console')")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default: CONSOLE_PORT")
    p.set_defaults(func=cmd_console)
    p = sub.add_parser("operators", help="the team console's operators: list, add NAME --role ROLE, set NAME")
    operators = p.add_subparsers(dest="action")
    q = operators.add_parser("add", help="a new operator; the password is asked for, or read from standard input")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=("agent", "supervisor", "admin"))
    q.add_argument("--by", default="cli", help="who added them (kept in the audit log)")
    q = operators.add_parser("set", help="change a role, deactivate, or set a new password (ends their sessions)")
    q.add_argument("name")
    q.add_argument("--role", choices=("agent", "supervisor", "admin"))
    q.add_argument("--active", choices=("yes", "no"))
    q.add_argument("--password", action="store_true", help="ask for a new password (or read it from standard input)")
    q.add_argument("--by", default="cli")
    operators.add_parser("list", help="every operator, their role and last log-in")
    p.set_defaults(func=cmd_operators, action="list")
    p = sub.add_parser("web", help="serve the page with the chat widget (WEB_PORT, default 8080)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default: WEB_PORT")
    p.add_argument("--socket-url", help="Rasa's URL as the browser reaches it (default: PUBLIC_BASE_URL)")
    p.set_defaults(func=cmd_web)
    return parser


# These take the settings alone; the others take the services (bot.bootstrap), which
# open the loan store.
SETTINGS_ONLY = frozenset({cmd_migrate, cmd_endpoints, cmd_web, cmd_cluster, cmd_bench})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.func in SETTINGS_ONLY:
        from bot.settings import load_settings

        return args.func(args, load_settings())
    from bot.bootstrap import bootstrap

    return args.func(args, bootstrap())


if __name__ == "__main__":
    sys.exit(main())
