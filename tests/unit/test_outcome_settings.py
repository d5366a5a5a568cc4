"""The settings of payments in and offer learning (issue 14), read and checked at start-up."""

from __future__ import annotations

import pytest

from bot.settings import Settings, load_settings
from tests.unit.test_settings import PRODUCTION


def test_the_defaults_refuse_every_webhook_delivery_and_leave_learning_off():
    settings = load_settings()
    assert (settings.payment_webhook_secret, settings.payment_webhook_tolerance_seconds) == ("", 300)
    assert settings.payment_thanks is True
    assert (settings.offer_learning, settings.offer_exploration) == (False, 1.0)
    assert settings.offer_segment_fields() == ("reason_code", "dpd_bucket", "product")


def test_switches_read_on_and_off(monkeypatch):
    monkeypatch.setenv("PAYMENT_THANKS", "off")
    monkeypatch.setenv("OFFER_LEARNING", "ON")
    monkeypatch.setenv("OFFER_SEGMENTS", "product, dpd_bucket")
    settings = load_settings()
    assert (settings.payment_thanks, settings.offer_learning) == (False, True)
    assert settings.offer_segment_fields() == ("product", "dpd_bucket")
    monkeypatch.setenv("OFFER_LEARNING", "maybe")
    with pytest.raises(RuntimeError, match="OFFER_LEARNING must be on or off"):
        load_settings()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"payment_webhook_tolerance_seconds": 0}, "PAYMENT_WEBHOOK_TOLERANCE_SECONDS"),
        ({"payment_webhook_tolerance_seconds": 86400}, "PAYMENT_WEBHOOK_TOLERANCE_SECONDS"),
        ({"offer_exploration": 0}, "OFFER_EXPLORATION"),
        ({"offer_segments": "reason_code,postcode"}, "OFFER_SEGMENTS may name only"),
    ],
)
def test_values_that_make_no_sense_are_refused(changes, message):
    with pytest.raises(RuntimeError, match=message):
        Settings(**changes).check()


def test_production_wants_a_strong_webhook_secret_of_its_own():
    with pytest.raises(RuntimeError, match="PAYMENT_WEBHOOK_SECRET is too weak"):
        Settings(**PRODUCTION, payment_webhook_secret="short").check()
    with pytest.raises(RuntimeError, match="must be different secrets"):
        Settings(**PRODUCTION, payment_webhook_secret=PRODUCTION["payment_link_secret"]).check()
    Settings(**PRODUCTION, payment_webhook_secret="9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc").check()
