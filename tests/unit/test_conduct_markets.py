"""Issue 13 §7: the conduct rules per market (bot/domain/conduct.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.domain import conduct


@pytest.mark.parametrize(
    "currency, tz, market",
    [
        ("CNY", "Asia/Shanghai", "CN"),
        ("CNY", "Europe/London", "CN"),
        ("USD", "Asia/Shanghai", "CN"),
        ("GBP", "Europe/London", "UK"),
        ("gbp", "America/New_York", "UK"),
        ("USD", "America/New_York", "US"),
        ("EUR", "Europe/London", "UK"),
        ("EUR", "America/Chicago", "US"),
        ("EUR", "Europe/Madrid", "US"),
        ("", "", "US"),
    ],
)
def test_the_market_when_the_file_does_not_say(currency, tz, market):
    assert conduct.market_for(currency, tz) == market


@pytest.mark.parametrize(
    "utc, market, allowed",
    [
        ("13:30", "CN", True),  # 21:30 in Shanghai: China allows until 22:00
        ("13:30", "US", False),  # Reg F's window ends at 21:00
        ("13:30", "UK", False),
        ("14:00", "CN", False),  # 22:00: never without consent
        ("23:59", "CN", False),  # 07:59
        ("00:00", "CN", True),  # 08:00
    ],
)
def test_the_contact_window_by_market(utc, market, allowed):
    now = datetime.combine(datetime(2026, 11, 23).date(), datetime.strptime(utc, "%H:%M").time(), tzinfo=timezone.utc)
    assert conduct.within_contact_hours(now, "Asia/Shanghai", market=market) is allowed
    # a lender's narrower hours still narrow it
    assert not conduct.within_contact_hours(now, "Asia/Shanghai", end_hour=21, market=market) or utc == "00:00"


def test_the_caps_per_day_by_market_with_their_sources():
    cn = conduct.MARKETS["CN"]
    assert (cn.max_per_day.value, cn.max_per_address_per_day.value, cn.max_per_7_days.value) == (3, 6, 7)
    assert "2025" in cn.max_per_day.source and "AI included" in cn.max_per_day.source
    assert "Banking Association" in cn.max_per_address_per_day.source
    assert conduct.within_daily_limits(2, 5, market="CN") is None
    assert conduct.within_daily_limits(3, 0, market="CN") == "daily_limit"
    assert conduct.within_daily_limits(0, 6, market="CN") == "daily_limit_address"
    for market in ("US", "UK"):
        assert conduct.within_daily_limits(10, 10, market=market) is None
        assert conduct.MARKETS[market].max_per_7_days.value == 7
    assert conduct.within_weekly_limit(6, market="CN") and not conduct.within_weekly_limit(7, market="CN")
    assert conduct.rules_for(None).market == conduct.rules_for("xx").market == "US"


@pytest.mark.parametrize(
    "text, found",
    [
        ("我们是法院的，请配合", ["法院"]),
        ("公安已经立案", ["公安", "立案"]),
        ("我们的律师会联系你", ["律师"]),
        ("不还就上门", ["上门", "不还就"]),
        ("会通知您的同事", ["您的同事"]),
    ],
)
def test_the_banned_words_cover_impersonation_and_threats_in_chinese(text, found):
    assert sorted(conduct.banned_phrases_in(text)) == sorted(found)
