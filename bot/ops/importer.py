"""`import-loans FILE.csv`: validate every row first; write all rows or none."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import is_currency

from bot.domain.conduct import MARKETS, market_for
from bot.domain.identity import WECHAT_OPENID
from bot.domain.names import TITLES
from bot.domain.parsing import normalise_loan_ref
from bot.settings import LANGUAGES

COLUMNS = [
    "loan_ref",
    "borrower_name",
    "date_of_birth",
    "phone",
    "email",
    "timezone",
    "language",
    "product",
    "currency",
    "principal",
    "outstanding_balance",
    "overdue_amount",
    "days_past_due",
    "next_due_date",
]
# Optional trailing columns, in any order: how the lender reaches the borrower first,
# the borrower's ids on Telegram and on the lender's WeChat Official Account, whose
# conduct rules apply (US, UK or CN; else derived from the currency and time zone:
# bot.domain.conduct.market_for), and how to address the borrower (the family name as
# written in borrower_name, and mr | ms | mrs | miss | mx: bot/domain/names.py).
OPTIONAL_COLUMNS = ("preferred_channel", "telegram_chat_id", "wechat_openid", "market", "family_name", "title")
CHANNELS = ("sms", "whatsapp", "telegram", "wechat")
MAX_ROWS = 500_000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


def read_loans_csv(path: Path) -> list[dict[str, Any]]:
    """Parse and validate the file; raise ImportRejected listing every bad line."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ImportRejected([RowError(0, f"cannot open file: {exc.strerror}")]) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportRejected([RowError(1, f"unreadable: {exc}")]) from None
        if header is None:
            raise ImportRejected([RowError(1, "the file is empty")])
        names = [h.strip() for h in header]
        extra = names[len(COLUMNS) :]
        if (
            names[: len(COLUMNS)] != COLUMNS
            or any(name not in OPTIONAL_COLUMNS for name in extra)
            or len(set(extra)) != len(extra)
        ):
            raise ImportRejected(
                [
                    RowError(
                        1,
                        "header must be exactly: "
                        + ",".join(COLUMNS)
                        + " (optionally followed by any of "
                        + ",".join(OPTIONAL_COLUMNS)
                        + ", each once)",
                    )
                ]
            )
        columns = names
        rows: list[dict[str, Any]] = []
        errors: list[RowError] = []
        seen: dict[str, int] = {}  # loan_ref -> the line it was first on
        try:
            for line_no, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                if len(rows) + len(errors) >= MAX_ROWS:
                    errors.append(RowError(line_no, f"more than {MAX_ROWS} rows"))
                    break
                row, problems = _validate(dict(zip(columns, values, strict=False)), len(values), len(columns))
                ref = row.get("loan_ref")
                if ref and ref in seen:
                    problems.append(f"loan_ref {ref} repeats line {seen[ref]}")
                elif ref:
                    seen[ref] = line_no
                errors.extend(RowError(line_no, p) for p in problems)
                if not problems:
                    rows.append(row)
        except (csv.Error, UnicodeDecodeError) as exc:
            errors.append(RowError(reader.line_num, f"unreadable: {exc}"))
    if errors:
        raise ImportRejected(errors)
    return rows


def _validate(raw: dict[str, str], n_values: int, n_columns: int) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    if n_values != n_columns:
        return {}, [f"expected {n_columns} columns, found {n_values}"]
    v = {k: (raw.get(k) or "").strip() for k in (*COLUMNS, *OPTIONAL_COLUMNS)}
    row: dict[str, Any] = {}

    if v["preferred_channel"]:
        if v["preferred_channel"] not in CHANNELS:
            problems.append(f"preferred_channel {v['preferred_channel']!r} must be one of {', '.join(CHANNELS)}")
        row["preferred_channel"] = v["preferred_channel"]
    if v["telegram_chat_id"]:
        if not v["telegram_chat_id"].lstrip("-").isdigit() or len(v["telegram_chat_id"]) > 20:
            problems.append(f"telegram_chat_id {v['telegram_chat_id']!r} is not a Telegram chat id")
        row["telegram_chat_id"] = v["telegram_chat_id"]
    if v["wechat_openid"]:
        if not WECHAT_OPENID.fullmatch(v["wechat_openid"]):
            problems.append(f"wechat_openid {v['wechat_openid']!r} is not a WeChat OpenID")
        row["wechat_openid"] = v["wechat_openid"]

    ref = normalise_loan_ref(v["loan_ref"])
    if not ref or ref.replace("-", "") != v["loan_ref"].upper().replace("-", "").replace(" ", ""):
        problems.append(f"loan_ref {v['loan_ref']!r} is not a reference like LN-48213")
    row["loan_ref"] = ref

    if not v["borrower_name"] or len(v["borrower_name"]) > 200:
        problems.append("borrower_name is required (at most 200 characters)")
    row["borrower_name"] = v["borrower_name"]
    if v["family_name"] and (
        len(v["family_name"]) > 100 or v["family_name"].casefold() not in v["borrower_name"].casefold()
    ):
        problems.append(f"family_name {v['family_name']!r} must be part of borrower_name")
    if v["title"] and v["title"].lower() not in TITLES:
        problems.append(f"title {v['title']!r} must be one of {', '.join(TITLES)}")
    for name in ("family_name", "title"):
        if name in raw:  # the file has the column: an empty value clears it
            row[name] = (v[name].lower() if name == "title" else v[name]) or None

    row["date_of_birth"] = _date(v["date_of_birth"], "date_of_birth", problems, required=True)
    row["next_due_date"] = _date(v["next_due_date"], "next_due_date", problems, required=False)

    row["phone"] = v["phone"].replace(" ", "") or None
    if row["phone"] and not (row["phone"].lstrip("+").replace(" ", "").isdigit() and 6 <= len(row["phone"]) <= 20):
        problems.append(f"phone {v['phone']!r} is not a phone number")
    row["email"] = v["email"] or None
    if row["email"] and ("@" not in row["email"] or len(row["email"]) > 254):
        problems.append(f"email {v['email']!r} is not an email address")

    try:
        ZoneInfo(v["timezone"])
        row["timezone"] = v["timezone"]
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone {v['timezone']!r} is not an IANA time zone such as Europe/London")

    if v["language"] not in LANGUAGES:
        problems.append(f"language {v['language']!r} must be one of {', '.join(LANGUAGES)}")
    row["language"] = v["language"]

    if not v["product"] or len(v["product"]) > 64:
        problems.append("product is required")
    row["product"] = v["product"]

    if not (len(v["currency"]) == 3 and is_currency(v["currency"].upper())):
        problems.append(f"currency {v['currency']!r} is not an ISO 4217 code")
    row["currency"] = v["currency"].upper()

    for name in ("principal", "outstanding_balance", "overdue_amount"):
        row[name] = _amount(v[name], name, problems)
    overdue, outstanding = row["overdue_amount"], row["outstanding_balance"]
    if overdue is not None and outstanding is not None and overdue > outstanding:
        problems.append("overdue_amount is larger than outstanding_balance")

    if v["market"]:
        if v["market"].upper() not in MARKETS:
            problems.append(f"market {v['market']!r} must be one of {', '.join(MARKETS)}")
        row["market"] = v["market"].upper()
    else:
        row["market"] = market_for(row["currency"], v["timezone"])

    try:
        row["days_past_due"] = int(v["days_past_due"])
        if row["days_past_due"] < 0:
            raise ValueError
    except ValueError:
        problems.append(f"days_past_due {v['days_past_due']!r} must be a whole number, 0 or more")
    return row, problems


def _date(text: str, name: str, problems: list[str], *, required: bool) -> date | None:
    if not text:
        if required:
            problems.append(f"{name} is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} {text!r} is not a date in the form YYYY-MM-DD")
        return None


def _amount(text: str, name: str, problems: list[str]) -> Decimal | None:
    try:
        value = Decimal(text)
        exponent = value.as_tuple().exponent  # "n", "N" or "F" for NaN, sNaN and infinity
        if not isinstance(exponent, int) or value < 0 or exponent < -4 or value >= Decimal("1e14"):
            raise InvalidOperation
        return value
    except InvalidOperation:
        problems.append(f"{name} {text!r} must be a decimal amount such as 1250.00")
        return None
