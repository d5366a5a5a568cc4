"""Issue 13 §4 and §6 rules: verification details read from one message, and how a
borrower is addressed by language (bot/domain/parsing/details.py, bot/domain/names.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.names import PersonName, address_as
from bot.domain.parsing import parse_verification_details

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    "text, ref, dob",
    [
        ("it's LN-10009, born 3 april 2000", "LN-10009", date(2000, 4, 3)),
        ("born 3 April 2000, loan ln 10009", "LN-10009", date(2000, 4, 3)),
        ("LN-10001 and 1985-03-12", "LN-10001", date(1985, 3, 12)),
        ("借款编号LN-10007，生日1988年2月2日", "LN-10007", date(1988, 2, 2)),
        ("1988年2月2日出生，编号LN10007", "LN-10007", date(1988, 2, 2)),
        ("my ref is LN-10009 and i was born on the 3rd of April 2000", "LN-10009", date(2000, 4, 3)),
    ],
)
def test_both_details_in_either_order_and_language(text, ref, dob):
    details = parse_verification_details(text, TODAY)
    assert (details.loan_ref, details.date_of_birth.value) == (ref, dob)


@pytest.mark.parametrize(
    "text, ref, problem",
    [
        ("LN-10001", "LN-10001", "unparseable"),  # the reference's digits are not a date
        ("12 March 1985", None, None),
        ("1 June 1980", None, None),  # 'June 1980' is no reference
        ("may 2000", None, "unparseable"),
        ("LN-10009 born 31 feb 2000", "LN-10009", "unparseable"),
        ("LN-10009 03/04/2000", "LN-10009", "ambiguous"),
        ("", None, "unparseable"),
        (None, None, "unparseable"),
    ],
)
def test_partial_or_bad_details(text, ref, problem):
    details = parse_verification_details(text, TODAY)
    assert (details.loan_ref, details.date_of_birth.problem) == (ref, problem)


@pytest.mark.parametrize(
    "name, en, zh",
    [
        (PersonName("Amelia Clarke"), "Amelia", "Amelia Clarke"),
        (PersonName("Grace Li", "Li", "ms"), "Grace", "Li女士"),
        (PersonName("Grace Li", "Li"), "Grace", "Grace Li"),  # no title: the full name, never "Li"
        (PersonName("Li Hua", "Li", "mr"), "Hua", "Li先生"),  # Chinese order in Latin letters
        (PersonName("李华"), "李华", "李华"),  # family name unknown: never cut
        (PersonName("李华", "李", "mr"), "华", "李先生"),
        (PersonName("欧阳娜娜", "欧阳", "ms"), "娜娜", "欧阳女士"),
        (PersonName("欧阳娜娜", "欧阳"), "娜娜", "欧阳娜娜"),
        (PersonName("Sam Taylor", "Taylor", "mx"), "Sam", "Sam Taylor"),  # no gendered polite form
        (PersonName("Madonna"), "Madonna", "Madonna"),
    ],
)
def test_names_as_each_language_expects(name, en, zh):
    assert address_as(name, "en") == en
    assert address_as(name, "zh") == zh
    assert address_as(name, "zh-CN") == zh


def test_a_chinese_speaker_never_reads_a_family_name_alone():
    for name in (PersonName("Grace Li", "Li"), PersonName("李华"), PersonName("Li Hua", "Li")):
        assert address_as(name, "zh") not in {"Li", "李"}
