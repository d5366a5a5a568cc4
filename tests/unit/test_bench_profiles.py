"""`python -m bot bench --profile embedded,production --baseline` prints the
profiles and stock Rasa side by side, with each profile's ratio to stock and
production's to embedded."""

from __future__ import annotations

from bot.ops.bench import render_profiles


def _figures(rate: float, p50: float, ratio: float) -> dict:
    return {
        "messages": 100,
        "errors": 0,
        "p50_ms_one_at_a_time": p50,
        "p50_ms": 2 * p50,
        "p95_ms": 3 * p50,
        "p99_ms": 4 * p50,
        "messages_per_second": rate,
        "turn5_ms": 10.0,
        "turn200_ms": 10.0 * ratio,
        "long_ratio": ratio,
    }


def test_the_profiles_and_stock_side_by_side():
    table = render_profiles(
        {"embedded": _figures(40.0, 30, 1.2), "production": _figures(36.0, 33, 1.3)}, _figures(18.0, 60, 5.0), 200
    )
    lines = table.splitlines()
    assert lines[0].split() == [
        "embedded",
        "production",
        "stock",
        "Rasa",
        "embedded/stock",
        "production/stock",
        "prod/emb",
    ]
    rate = next(line for line in lines if line.startswith("messages per second")).split()[-6:]
    assert rate == ["40.0", "36.0", "18.0", "2.22", "2.00", "0.90"]
    p50 = next(line for line in lines if line.startswith("p50 one conversation")).split()[-6:]
    assert p50 == ["30", "33", "60", "0.50", "0.55", "1.10"]


def test_one_profile_without_stock():
    table = render_profiles({"production": _figures(36.0, 33, 1.3)}, None, 200)
    assert table.splitlines()[0].split() == ["production"]
    assert "turn 200 / turn 5" in table


def test_the_load_each_column_ran_under_is_printed():
    from bot.ops.bench import load_line

    line = load_line(
        {"embedded": {"load_average": (0.4, 1.26)}, "production": {"load_average": (6.0, 9.5)}, "stock Rasa": None}
    )
    assert line.endswith("while each column ran: embedded 0.4-1.3, production 6.0-9.5")
