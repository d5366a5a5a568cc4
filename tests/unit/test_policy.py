import copy
import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.policy import HardshipPolicy, PolicyBook, PolicyError, ProductPolicy, SettlementPolicy

POLICY_FILE = Path(__file__).resolve().parents[2] / "collections_policy.yml"

BASE = {
    "default": {
        "min_instalment": "25.00",
        "max_months": 12,
        "plan_lengths": [3, 6, 12],
        "max_promise_days": 14,
        "max_days_to_first_instalment": 30,
        "hardship": {"max_holiday_months": 3, "max_months": 24, "min_instalment": "10.00"},
        "settlement": {
            "min_days_past_due": 90,
            "initial_discount": "0.10",
            "max_discount": "0.25",
            "max_days_to_pay": 14,
        },
    },
    "products": {},
}


def book_with(default=None, **products):
    data = copy.deepcopy(BASE)
    for key, value in (default or {}).items():
        if isinstance(value, dict):
            data["default"][key].update(value)
        else:
            data["default"][key] = value
    data["products"] = products
    return PolicyBook.from_dict(data)


# --- the real file -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_book():
    return PolicyBook.load(POLICY_FILE)


def test_real_file_loads_default(real_book):
    default = real_book.default
    assert default == real_book.for_product("default")
    assert default.min_instalment == Decimal("25.00")
    assert default.max_months == 12
    assert default.plan_lengths == (3, 6, 12)
    assert default.max_promise_days == 14
    assert default.max_days_to_first_instalment == 30
    assert default.hardship == HardshipPolicy(3, 24, Decimal("10.00"))
    assert default.settlement == SettlementPolicy(90, Decimal("0.10"), Decimal("0.25"), 14)


def test_real_file_products(real_book):
    assert real_book.products == ("personal_loan", "bnpl")
    loan = real_book.for_product("personal_loan")
    assert loan.product == "personal_loan"
    assert loan.min_instalment == Decimal("30.00")
    assert loan.plan_lengths == (3, 6, 12)
    assert loan.max_months == 12

    bnpl = real_book.for_product("bnpl")
    assert bnpl.min_instalment == Decimal("10.00")
    assert bnpl.plan_lengths == (2, 3, 4)
    assert bnpl.max_months == 6
    assert bnpl.hardship.max_months <= 6
    assert bnpl.settlement == real_book.default.settlement


def test_real_file_amounts_are_decimals(real_book):
    for name in ("default",) + real_book.products:
        policy = real_book.for_product(name)
        for amount in (
            policy.min_instalment,
            policy.hardship.min_instalment,
            policy.settlement.initial_discount,
            policy.settlement.max_discount,
        ):
            assert type(amount) is Decimal


def test_unknown_product_falls_back_to_default(real_book):
    policy = real_book.for_product("car_finance")
    assert policy is real_book.default
    assert policy.product == "default"


# --- merging -----------------------------------------------------------------------------


def test_product_overrides_subset_and_nested_sections_merge_per_key():
    book = book_with(
        card={"min_instalment": "5.00", "hardship": {"min_instalment": "2.50"}, "settlement": {"max_discount": "0.40"}}
    )
    card = book.for_product("card")
    assert card.min_instalment == Decimal("5.00")
    assert card.max_months == 12
    assert card.hardship == HardshipPolicy(3, 24, Decimal("2.50"))
    assert card.settlement == SettlementPolicy(90, Decimal("0.10"), Decimal("0.40"), 14)
    assert book.default.hardship.min_instalment == Decimal("10.00")


def test_empty_product_entry_is_the_default_under_its_own_name():
    book = book_with(store_card=None)
    assert book.for_product("store_card") == dataclasses.replace(book.default, product="store_card")


def test_products_section_may_be_missing():
    data = copy.deepcopy(BASE)
    del data["products"]
    assert PolicyBook.from_dict(data).products == ()


def test_plan_lengths_are_sorted_and_ints_accepted_as_amounts():
    book = book_with({"plan_lengths": [12, 3, 6], "min_instalment": 25})
    assert book.default.plan_lengths == (3, 6, 12)
    assert book.default.min_instalment == Decimal(25)


def test_policies_are_frozen():
    book = book_with()
    with pytest.raises(dataclasses.FrozenInstanceError):
        book.default.max_months = 99  # type: ignore[misc]
    assert isinstance(book.default, ProductPolicy)


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "default, products, expected",
    [
        ({"min_instalment": "0"}, {}, ["'default'", "'min_instalment'", "positive"]),
        ({"min_instalment": "-5"}, {}, ["'min_instalment'", "positive"]),
        ({"min_instalment": "abc"}, {}, ["'min_instalment'", "not a number"]),
        ({"min_instalment": "NaN"}, {}, ["'min_instalment'", "finite"]),
        ({"min_instalment": 25.5}, {}, ["'min_instalment'", "quoted string"]),
        ({"min_instalment": True}, {}, ["'min_instalment'"]),
        ({"max_months": 0}, {}, ["'max_months'", "at least"]),
        ({"max_months": "12"}, {}, ["'max_months'", "whole number"]),
        ({"max_months": 6}, {}, ["'plan_lengths'", "12 is longer than max_months (6)"]),
        ({"plan_lengths": [1, 3]}, {}, ["'plan_lengths'", "at least 2 months"]),
        ({"plan_lengths": [3, 3]}, {}, ["'plan_lengths'", "listed twice"]),
        ({"plan_lengths": []}, {}, ["'plan_lengths'", "non-empty"]),
        ({"plan_lengths": "3,6"}, {}, ["'plan_lengths'"]),
        ({"max_promise_days": -1}, {}, ["'max_promise_days'"]),
        ({"max_days_to_first_instalment": 1.5}, {}, ["'max_days_to_first_instalment'"]),
        ({"hardship": {"max_holiday_months": 0}}, {}, ["'hardship.max_holiday_months'"]),
        ({"hardship": {"max_months": 1}}, {}, ["'hardship.max_months'"]),
        ({"hardship": {"min_instalment": "0.00"}}, {}, ["'hardship.min_instalment'", "positive"]),
        ({"hardship": {"holiday": 2}}, {}, ["'hardship.holiday'", "unknown field"]),
        ({"settlement": {"initial_discount": "1"}}, {}, ["'settlement.initial_discount'", "fraction"]),
        ({"settlement": {"max_discount": "-0.1"}}, {}, ["'settlement.max_discount'", "fraction"]),
        (
            {"settlement": {"initial_discount": "0.30"}},
            {},
            ["'settlement.initial_discount'", "larger than settlement.max_discount"],
        ),
        ({"settlement": {"max_days_to_pay": 0}}, {}, ["'settlement.max_days_to_pay'"]),
        ({"min_instalmnet": "25.00"}, {}, ["'min_instalmnet'", "unknown field"]),
        ({}, {"bnpl": {"max_months": 2}}, ["'bnpl'", "'plan_lengths'", "longer than max_months"]),
        ({}, {"bnpl": {"min_instalment": "ten"}}, ["'bnpl'", "'min_instalment'"]),
        ({}, {"bnpl": {"hardship": {"min_instalment": -1}}}, ["'bnpl'", "'hardship.min_instalment'"]),
        ({}, {"bnpl": {"settlement": None}}, ["product 'bnpl', field 'settlement'", "must be a mapping"]),
        ({}, {"bnpl": {"settlement": {"discount": "0.1"}}}, ["'bnpl'", "'settlement.discount'"]),
        ({}, {"bnpl": {"colour": "red"}}, ["'bnpl'", "'colour'", "unknown field"]),
        ({}, {"bnpl": ["min_instalment"]}, ["'bnpl'", "must be a mapping"]),
    ],
)
def test_invalid_policy_names_product_and_field(default, products, expected):
    with pytest.raises(PolicyError) as excinfo:
        book_with(default, **products)
    for text in expected:
        assert text in str(excinfo.value)


def test_missing_field_is_reported():
    data = copy.deepcopy(BASE)
    del data["default"]["max_promise_days"]
    with pytest.raises(PolicyError, match=r"'default', field 'max_promise_days': missing"):
        PolicyBook.from_dict(data)


def test_missing_nested_field_is_reported():
    data = copy.deepcopy(BASE)
    del data["default"]["settlement"]["max_discount"]
    with pytest.raises(PolicyError, match=r"field 'settlement.max_discount': missing"):
        PolicyBook.from_dict(data)


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "mapping"),
        ({"products": {}}, "missing the 'default' section"),
        ({**BASE, "defaults": {}}, "unknown top-level key"),
        ({**BASE, "products": ["bnpl"]}, "'products' must be a mapping"),
        ({**BASE, "products": {"default": {}}}, "cannot be used as a product name"),
    ],
)
def test_invalid_structure(data, message):
    with pytest.raises(PolicyError, match=message):
        PolicyBook.from_dict(data)


def test_policy_error_is_a_value_error():
    assert issubclass(PolicyError, ValueError)


# --- bad files ---------------------------------------------------------------------------


def test_bad_file_error_names_the_file_product_and_field(tmp_path):
    text = POLICY_FILE.read_text().replace(
        'min_instalment: "10.00"\n    plan_lengths: [2, 3, 4]', "min_instalment: 10.5\n    plan_lengths: [2, 3, 4]"
    )
    assert text != POLICY_FILE.read_text()
    path = tmp_path / "policy.yml"
    path.write_text(text)
    with pytest.raises(PolicyError) as excinfo:
        PolicyBook.load(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "product 'bnpl', field 'min_instalment'" in message
    assert '"10.5"' in message


def test_invalid_yaml(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("default: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        PolicyBook.load(path)


def test_duplicate_keys_are_rejected(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text(POLICY_FILE.read_text() + "\n  bnpl:\n    max_months: 4\n")
    with pytest.raises(PolicyError, match="duplicate key 'bnpl'"):
        PolicyBook.load(path)


def test_empty_file(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("")
    with pytest.raises(PolicyError, match="mapping"):
        PolicyBook.load(path)


def test_load_accepts_str_path():
    assert PolicyBook.load(str(POLICY_FILE)).products == ("personal_loan", "bnpl")
