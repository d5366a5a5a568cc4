"""`import-payments FILE.csv`: read and check every row first; the store then records
all of them or none (bot/adapters/store/payments.py). A file with bad rows is also
checked against the store, so every bad line is named at once (bot/ops/cli.py)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from bot.domain.payments import PAYMENT_FIELDS, IncomingPayment, read_payment
from bot.ops.importer import RowError

MAX_ROWS = 500_000


def check_payments_csv(path: Path, now: datetime) -> tuple[list[IncomingPayment], list[int], list[RowError]]:
    """Every row read: the good payments with the line each came from, and every bad line's
    problems (so the store can still check the good ones before the file is rejected)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        return [], [], [RowError(0, f"cannot open file: {exc.strerror}")]
    payments: list[IncomingPayment] = []
    lines: list[int] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}  # payment_id -> the line it was first on
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                return [], [], [RowError(1, "the file is empty")]
            if [h.strip() for h in header] != list(PAYMENT_FIELDS):
                return [], [], [RowError(1, "header must be exactly: " + ",".join(PAYMENT_FIELDS))]
            for line_no, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                if len(payments) + len(errors) >= MAX_ROWS:
                    errors.append(RowError(line_no, f"more than {MAX_ROWS} rows"))
                    break
                if len(values) != len(PAYMENT_FIELDS):
                    errors.append(RowError(line_no, f"expected {len(PAYMENT_FIELDS)} columns, found {len(values)}"))
                    continue
                payment, problems = read_payment(dict(zip(PAYMENT_FIELDS, values, strict=True)), now)
                if payment is not None and payment.payment_id in seen:
                    problems = [f"payment_id {payment.payment_id} repeats line {seen[payment.payment_id]}"]
                errors.extend(RowError(line_no, p) for p in problems)
                if payment is not None and not problems:
                    seen[payment.payment_id] = line_no
                    payments.append(payment)
                    lines.append(line_no)
        except (csv.Error, UnicodeDecodeError) as exc:
            errors.append(RowError(reader.line_num, f"unreadable: {exc}"))
    return payments, lines, errors
