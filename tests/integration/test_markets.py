"""Issue 13 §7: each loan's market (US, UK or CN) from the import or derived from its
currency and time zone, the migration that gives existing loans theirs, and the contact
rules chosen by it in reminders: China's window until 22:00 and its caps per day (per
borrower, per number), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.adapters.orm import Borrower, ContactAttempt, Loan
from bot.domain.conduct import MARKETS
from bot.ops.demo import seed_demo
from bot.ops.importer import COLUMNS, ImportRejected, read_loans_csv
from bot.services.reminders import ReminderRules
from tests.integration.test_reminders import add_loan, add_sent, decisions

HEADER = ",".join(COLUMNS)
ROWS = [
    "LN-30001,Maya Singh,1987-06-01,+447700900101,,Europe/London,en,personal_loan,GBP,3000.00,2100.00,300.00,35,",
    "LN-30002,Wei Zhang,1979-10-10,+8613800000102,,Asia/Shanghai,zh,bnpl,CNY,1200,800,400,70,",
    "LN-30003,Jo Park,1979-10-10,+12125550103,,America/New_York,en,bnpl,USD,1200,800,400,70,",
    "LN-30004,Lin Chen,1990-01-01,+8613800000104,,Asia/Shanghai,zh,bnpl,USD,1200,800,400,70,",
    "LN-30005,Ana Ruiz,1990-01-01,+34600000105,,Europe/Madrid,en,bnpl,EUR,1200,800,400,70,",
]


def write(tmp_path: Path, header: str, lines: list[str]) -> Path:
    path = tmp_path / "loans.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def markets(store) -> dict[str, str]:
    with store.db.reader() as s:
        return dict(s.execute(select(Loan.loan_ref, Loan.market)).all())


def test_the_market_is_derived_from_currency_and_time_zone(store, tmp_path):
    store.upsert_loans(read_loans_csv(write(tmp_path, HEADER, ROWS)))
    assert markets(store) == {
        "LN-30001": "UK",
        "LN-30002": "CN",
        "LN-30003": "US",
        "LN-30004": "CN",  # dollars, but living in China: China's rules
        "LN-30005": "US",  # nothing to go by: the default
    }


def test_the_market_column_and_how_to_address_the_borrower(store, tmp_path):
    header = HEADER + ",market,family_name,title"
    lines = [ROWS[0] + ",CN,Singh,ms", ROWS[1] + ",,Zhang,MR"]
    store.upsert_loans(read_loans_csv(write(tmp_path, header, lines)))
    assert markets(store) == {"LN-30001": "CN", "LN-30002": "CN"}
    with store.db.reader() as s:
        names = {b.full_name: (b.family_name, b.title) for b in s.scalars(select(Borrower))}
    assert names == {"Maya Singh": ("Singh", "ms"), "Wei Zhang": ("Zhang", "mr")}
    assert store.account("LN-30002").borrower_name.title == "mr"
    report = store.loan_report("LN-30001")  # what python -m bot loan shows the team
    assert report["market"] == "CN" and report["borrower"]["family_name"] == "Singh"
    # a re-import whose file has the columns empty clears them
    store.upsert_loans(read_loans_csv(write(tmp_path, header, [ROWS[1] + ",,,"])))
    assert store.account("LN-30002").borrower_name.family is None


@pytest.mark.parametrize(
    "extra, problem",
    [
        (",XX,,", "market 'XX' must be one of US, UK, CN"),
        (",,Smith,", "family_name 'Smith' must be part of borrower_name"),
        (",,,dr", "title 'dr' must be one of"),
    ],
)
def test_a_bad_market_or_name_rejects_the_file(tmp_path, extra, problem):
    with pytest.raises(ImportRejected) as rejected:
        read_loans_csv(write(tmp_path, HEADER + ",market,family_name,title", [ROWS[0] + extra]))
    assert problem in str(rejected.value.errors[0])


def test_the_migration_gives_existing_loans_their_market_both_ways(store):
    from alembic import command

    from bot.ops.migrate import alembic_config

    seed_demo(store, date(2026, 11, 23))
    url = store.db.engine.url.render_as_string(hide_password=False)
    store.db.engine.dispose()
    command.downgrade(alembic_config(url), "0007")
    with store.db.reader() as s:
        columns = s.execute(text("SELECT * FROM loans")).keys()
    assert "market" not in columns
    command.upgrade(alembic_config(url), "head")
    found = markets(store)
    assert found["LN-10007"] == "CN" and found["LN-10010"] == "US" and found["LN-10001"] == "UK"
    assert set(found.values()) == {"CN", "US", "UK"} and store.count("loans") == 10


# ---------------------------------------------------------------- contact rules by market


def set_market(db, ref: str, market: str) -> None:
    with db.transaction() as s:
        s.scalar(select(Loan).where(Loan.loan_ref == ref)).market = market


@pytest.fixture
def db(sqlite_store):
    return sqlite_store.db


def test_china_allows_until_22_where_the_lender_allows_it_and_the_us_does_not(db):
    add_loan(db, "LN-CN", dpd=7, tz="Asia/Shanghai")
    set_market(db, "LN-CN", "CN")
    add_loan(db, "LN-US", dpd=7, tz="Asia/Shanghai")
    set_market(db, "LN-US", "US")
    late = ReminderRules(end_hour=22)  # the lender's CONTACT_HOURS_END=22
    at_2130 = datetime(2026, 11, 23, 13, 30, tzinfo=timezone.utc)  # 21:30 in Shanghai
    assert decisions(db, at_2130, late) == {
        "LN-CN": ("days_past_due_7", None),
        "LN-US": ("days_past_due_7", "outside_contact_hours"),
    }
    at_2200 = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)  # 22:00: never, without consent
    assert decisions(db, at_2200, late)["LN-CN"][1] == "outside_contact_hours"
    assert decisions(db, at_2130)["LN-CN"][1] == "outside_contact_hours"  # the default 21:00 narrows it


def test_china_caps_contacts_per_borrower_per_day(db):
    now = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
    cn = add_loan(db, "LN-CN", dpd=7, tz="Asia/Shanghai")
    set_market(db, "LN-CN", "CN")
    uk = add_loan(db, "LN-UK", dpd=7, tz="Asia/Shanghai")
    set_market(db, "LN-UK", "UK")
    for borrower in (cn, uk):
        add_sent(db, borrower, now - timedelta(hours=3), n=3)  # today, in Shanghai
    assert decisions(db, now) == {"LN-CN": ("days_past_due_7", "daily_limit"), "LN-UK": ("days_past_due_7", None)}
    assert MARKETS["CN"].max_per_day.value == 3


def test_yesterdays_contacts_do_not_count_today(db):
    now = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
    cn = add_loan(db, "LN-CN", dpd=7, tz="Asia/Shanghai")
    set_market(db, "LN-CN", "CN")
    add_sent(db, cn, now - timedelta(hours=15), n=3)  # 23:00 yesterday in Shanghai
    assert decisions(db, now)["LN-CN"][1] is None


def test_china_caps_contacts_per_number_per_day_whoever_they_were_for(db):
    now = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
    shared = "+8613800000999"
    add_loan(db, "LN-CN", dpd=7, tz="Asia/Shanghai", phone=shared)
    set_market(db, "LN-CN", "CN")
    with db.transaction() as s:
        other = Borrower(
            full_name="Someone Else",
            date_of_birth=date(1970, 1, 1),
            timezone="Asia/Shanghai",
            language="zh",
            contact_preferences={},
        )
        s.add(other)
        s.flush()
        for i in range(6):
            s.add(
                ContactAttempt(
                    borrower_id=other.id,
                    channel="whatsapp" if i % 2 else "sms",
                    trigger="days_past_due_7",
                    outcome="sent",
                    conversation_id=f"whatsapp:{shared}" if i % 2 else shared,
                    created_at=now - timedelta(hours=1),
                )
            )
    assert decisions(db, now)["LN-CN"][1] == "daily_limit_address"
