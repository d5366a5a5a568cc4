"""The demo portfolio loaded by `python -m bot seed-demo` (idempotent).

Ten borrowers across every days-past-due bucket and two products; Harry Patel
(LN-10008) already has an active instalment plan. Dates are relative to today so
the demo always looks current.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot.adapters.store import LoanStore
from bot.domain.agreements import AgreementProposal, OpenAgreementExists
from bot.domain.plans import build_schedule

# loan_ref, name, date of birth, phone, product, currency, principal, outstanding, overdue, dpd, tz, language
_PORTFOLIO = [
    (
        "LN-10001",
        "Amelia Clarke",
        "1985-03-12",
        "+447700900001",
        "personal_loan",
        "GBP",
        "5000.00",
        "3200.00",
        "250.00",
        12,
        "Europe/London",
        "en",
    ),
    (
        "LN-10002",
        "Ben Okafor",
        "1990-07-04",
        "+447700900002",
        "personal_loan",
        "GBP",
        "8000.00",
        "5100.00",
        "480.00",
        45,
        "Europe/London",
        "en",
    ),
    (
        "LN-10003",
        "Chloe Wright",
        "1978-11-30",
        "+447700900003",
        "bnpl",
        "GBP",
        "240.00",
        "180.00",
        "60.00",
        5,
        "Europe/London",
        "en",
    ),
    (
        "LN-10004",
        "Daniel Evans",
        "1982-01-15",
        "+447700900004",
        "personal_loan",
        "GBP",
        "6000.00",
        "4200.00",
        "900.00",
        75,
        "Europe/London",
        "en",
    ),
    (
        "LN-10005",
        "Emma Hughes",
        "1995-05-21",
        "+447700900005",
        "bnpl",
        "GBP",
        "360.00",
        "240.00",
        "120.00",
        38,
        "Europe/London",
        "en",
    ),
    (
        "LN-10006",
        "Farid Khan",
        "1970-09-09",
        "+447700900006",
        "personal_loan",
        "GBP",
        "4000.00",
        "2600.00",
        "1500.00",
        120,
        "Europe/London",
        "en",
    ),
    (
        "LN-10007",
        "Grace Li",
        "1988-02-02",
        "+8613800000007",
        "personal_loan",
        "CNY",
        "30000.00",
        "18000.00",
        "6000.00",
        95,
        "Asia/Shanghai",
        "zh",
    ),
    (
        "LN-10008",
        "Harry Patel",
        "1992-12-25",
        "+447700900008",
        "personal_loan",
        "GBP",
        "4500.00",
        "2800.00",
        "300.00",
        20,
        "Europe/London",
        "en",
    ),
    (
        "LN-10009",
        "Isla Murphy",
        "2000-04-03",
        "+447700900009",
        "bnpl",
        "GBP",
        "150.00",
        "90.00",
        "90.00",
        62,
        "Europe/London",
        "en",
    ),
    (
        "LN-10010",
        "James Brown",
        "1983-08-19",
        "+12025550110",
        "personal_loan",
        "USD",
        "7000.00",
        "3900.00",
        "350.00",
        33,
        "America/New_York",
        "en",
    ),
]

PLAN_HOLDER = "LN-10008"
# How the demo lender reaches each borrower first (the rest: SMS).
_WECHAT_OPENID = {"LN-10007": "odemo00000000000000000010007"}
_PREFERRED_CHANNEL = {"LN-10002": "whatsapp", "LN-10003": "telegram", "LN-10007": "telegram"}
# How the lender knows to address two borrowers (bot/domain/names.py): Grace Li is
# 李女士 / Li女士 to a Chinese speaker, never "Li" as a given name.
_ADDRESS = {"LN-10007": ("Li", "ms"), "LN-10004": ("Evans", "mr")}


def demo_rows(today: date) -> list[dict]:
    rows = []
    for ref, name, dob, phone, product, ccy, principal, outstanding, overdue, dpd, tz, lang in _PORTFOLIO:
        rows.append(
            {
                "loan_ref": ref,
                "borrower_name": name,
                "date_of_birth": date.fromisoformat(dob),
                "phone": phone,
                "email": name.lower().replace(" ", ".") + "@example.com",
                "timezone": tz,
                "language": lang,
                "product": product,
                "currency": ccy,
                "principal": Decimal(principal),
                "outstanding_balance": Decimal(outstanding),
                "overdue_amount": Decimal(overdue),
                "days_past_due": dpd,
                "next_due_date": today + timedelta(days=30 - dpd % 30),
                "contact_preferences": {"sms": True, "whatsapp": True, "telegram": True, "email": True, "web": True},
                "preferred_channel": _PREFERRED_CHANNEL.get(ref, "sms"),
                # Demo Telegram chat ids: 7000010001 for LN-10001 and so on.
                "telegram_chat_id": "70000" + ref[-5:],
                # A demo WeChat OpenID for the Chinese-speaking borrower (issue 16).
                "wechat_openid": _WECHAT_OPENID.get(ref),
                "family_name": _ADDRESS.get(ref, (None, None))[0],
                "title": _ADDRESS.get(ref, (None, None))[1],
            }
        )
    return rows


def seed_demo(store: LoanStore, today: date) -> dict:
    created, updated = store.upsert_loans(demo_rows(today))
    overdue = Decimal("300.00")
    first_due = today + timedelta(days=7)
    schedule = build_schedule(overdue, "GBP", 3, first_due)
    proposal = AgreementProposal(
        kind="instalment_plan",
        total_amount=overdue,
        currency="GBP",
        instalments=tuple((i.due_date, i.amount) for i in schedule),
        terms={"months": 3, "first_due_date": first_due.isoformat(), "source": "demo"},
    )
    try:
        store.record_agreement(PLAN_HOLDER, proposal, idempotency_key=f"demo-seed-{PLAN_HOLDER}", channel="demo")
    except OpenAgreementExists:
        pass
    return {"created": created, "updated": updated}
