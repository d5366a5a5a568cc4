"""Operator command line: `python -m bot COMMAND` (also installed as `debt-assistant`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.clock import local_today
from bot.settings import get_settings


def _store():
    from bot.services import loan_store

    return loan_store()


def cmd_migrate(args) -> int:
    from bot.migrate import upgrade

    upgrade(get_settings().database_url)
    print("Loan store is at the latest schema.")
    return 0


def cmd_seed_demo(args) -> int:
    from bot.demo import seed_demo

    settings = get_settings()
    result = seed_demo(_store(), local_today(settings.default_timezone))
    print(f"Demo portfolio loaded: {result['created']} loans created, {result['updated']} updated.")
    return 0


def cmd_import_loans(args) -> int:
    from bot.importer import ImportRejected, read_loans_csv

    try:
        rows = read_loans_csv(Path(args.file))
    except ImportRejected as rejected:
        print(f"Rejected {args.file}: nothing was imported.", file=sys.stderr)
        for error in rejected.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    created, updated = _store().upsert_loans(rows)
    print(f"Imported {len(rows)} rows: {created} loans created, {updated} updated.")
    return 0


def cmd_agreements(args) -> int:
    agreements = _store().agreements()
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


def cmd_loan(args) -> int:
    from bot.parsing import normalise_loan_ref
    from bot.store import UnknownLoan

    ref = normalise_loan_ref(args.loan_ref) or args.loan_ref
    try:
        report = _store().loan_report(ref)
    except UnknownLoan:
        print(f"No loan with reference {args.loan_ref!r}.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{report['loan_ref']}  {report['product']}  {report['borrower']['full_name']}")
    print(f"  overdue {report['overdue_amount']} {report['currency']}, {report['days_past_due']} days past due, "
          f"outstanding {report['outstanding_balance']}, status {report['status']}")
    for r in report["reasons"]:
        print(f"  reason  {r['recorded_at'][:16]}  {r['reason_code']}: {r['borrower_words'] or ''}")
    for a in report["agreements"]:
        print(f"  agreement {a['agreement_ref']} {a['kind']} {a['status']} {a['total_amount']}")
    for e in report["audit_events"]:
        print(f"  event   {e['occurred_at'][:19]}  {e['event_type']}")
    return 0


def cmd_report(args) -> int:
    from bot.report import build_report, default_period, parse_day, render_text, write_plot

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
    report = build_report(_store(), start, end)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(render_text(report), end="")
    if args.plot:
        write_plot(report, args.plot)
        print(f"Chart written to {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the loan store schema").set_defaults(func=cmd_migrate)
    sub.add_parser("seed-demo", help="load the demo portfolio (idempotent)").set_defaults(func=cmd_seed_demo)
    p = sub.add_parser("import-loans", help="import or update loans from a CSV file")
    p.add_argument("file")
    p.set_defaults(func=cmd_import_loans)
    p = sub.add_parser("agreements", help="list recorded agreements")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_agreements)
    p = sub.add_parser("loan", help="show one loan with its reasons, agreements and audit events")
    p.add_argument("loan_ref")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_loan)
    p = sub.add_parser("report", help="summary for a date range (default: the last 30 days, UTC)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day, inclusive (UTC)")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day, inclusive (UTC; default today)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", help="also write a chart of the summary")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
