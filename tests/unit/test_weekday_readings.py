"""Issue 13 §5: a weekday said the same way is read the same way in English and in
Chinese, from every day of the week (bot/domain/parsing/dates.py):

- "Friday" / 周五: the first Friday from today, today included;
- "next Friday" / 下周五: Friday of next week (weeks start on Monday) — on a Thursday
  that is 8 days ahead, not tomorrow;
- "this Friday" / "coming Friday": the first Friday from today; 这周五 / 本周五 is
  Friday of this week, which may have passed (refused as a past date by the caller).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.parsing import parse_payment_date

MONDAY = date(2026, 11, 23)
WEEK = [MONDAY + timedelta(days=i) for i in range(7)]
EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ZH = ["一", "二", "三", "四", "五", "六", "日"]


@pytest.mark.parametrize("today", WEEK, ids=[d.strftime("%a") for d in WEEK])
@pytest.mark.parametrize("day", range(7), ids=EN)
def test_next_weekday_is_the_one_in_next_week_in_both_languages(today, day):
    next_week = today - timedelta(days=today.weekday()) + timedelta(weeks=1, days=day)
    assert parse_payment_date(f"next {EN[day]}", today) == next_week
    assert parse_payment_date(f"I'll pay next {EN[day].lower()}", today) == next_week
    assert parse_payment_date(f"下周{ZH[day]}", today) == next_week
    assert parse_payment_date(f"下星期{ZH[day]}还", today) == next_week
    assert next_week.weekday() == day and 1 <= (next_week - today).days <= 13


@pytest.mark.parametrize("today", WEEK, ids=[d.strftime("%a") for d in WEEK])
@pytest.mark.parametrize("day", range(7), ids=EN)
def test_a_weekday_alone_is_the_first_from_today_in_both_languages(today, day):
    first = today + timedelta(days=(day - today.weekday()) % 7)
    assert parse_payment_date(EN[day], today) == first
    assert parse_payment_date(f"on {EN[day].lower()}", today) == first
    assert parse_payment_date(f"周{ZH[day]}", today) == first
    assert parse_payment_date(f"礼拜{ZH[day]}", today) == first
    assert parse_payment_date(f"this {EN[day]}", today) == first


def test_on_a_thursday_next_friday_is_not_tomorrow():
    thursday = date(2026, 11, 26)
    assert parse_payment_date("next Friday", thursday) == date(2026, 12, 4)
    assert parse_payment_date("下周五", thursday) == date(2026, 12, 4)
    assert parse_payment_date("Friday", thursday) == parse_payment_date("周五", thursday) == date(2026, 11, 27)


def test_this_week_in_chinese_is_the_calendar_week():
    saturday = date(2026, 11, 28)
    assert parse_payment_date("这周五", saturday) == date(2026, 11, 27)  # passed: the caller refuses it
    assert parse_payment_date("this Friday", saturday) == date(2026, 12, 4)


def test_a_named_day_is_read_back_with_its_weekday():
    from bot.domain.formatting import format_day

    friday = parse_payment_date("next Friday", date(2026, 11, 26))
    assert format_day(friday, "en") == "Friday, 4 December 2026"
    assert format_day(parse_payment_date("下周五", date(2026, 11, 26)), "zh") == "2026年12月4日星期五"


def test_a_date_with_its_weekday_is_the_date():
    assert parse_payment_date("Friday 15 December", MONDAY) == date(2026, 12, 15)
    assert parse_payment_date("friday the 15th", MONDAY) == date(2026, 12, 15)
