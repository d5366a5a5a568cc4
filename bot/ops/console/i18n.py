"""The console's languages: English and Simplified Chinese, per operator.

The catalogue is gettext: the English text is the message id (templates use
Jinja's i18n extension, `{% trans %}` and `_()`; Python code marks its messages
with `_`/`N_`), and `locale/zh/LC_MESSAGES/console.po` holds the reviewed
Chinese. The .po file is read once per process with Babel (pinned in
pyproject.toml) and compiled in memory, so there is no build step to forget:
the file reviewers edit is the file the console reads. English needs no file
(its text is the id); `tests/unit/test_console_i18n.py` extracts every message
from the templates and the code with Babel and fails on one the Chinese
catalogue lacks, and renders every screen in Chinese checking that nothing fell
back to English.

Which language: the operator's own choice (`operators.language`, switched from
the header), else the lender's `CONSOLE_LANGUAGE` (en | zh, default en; bot.settings).
Money and dates go through bot.domain.formatting, the project's one locale
formatter. The borrower's words, the transcript and the audit trail's machine
codes are shown as they are.
"""

from __future__ import annotations

import gettext as _gettext
import io
import logging
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.domain.formatting import format_date, format_datetime, format_money, format_percent

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
DOMAIN = "console"

LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}  # each in its own language, for the switch
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "console_lang"  # before log-in only: the language of the log-in page


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; translated where it is shown."""
    return message


def normalise_language(value: object) -> str | None:
    """'zh', 'zh-CN', 'zh_Hans' -> 'zh'; 'en-GB' -> 'en'; anything else -> None."""
    if not isinstance(value, str):
        return None
    head = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return head if head in LANGUAGES else None


class Untranslated(_gettext.NullTranslations):
    """The fallback under a catalogue: a message it lacks is shown in English, logged,
    and remembered (the tests render every screen in Chinese and expect none)."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language
        self.missing: set[str] = set()

    def _miss(self, message: str) -> None:
        if message not in self.missing:
            self.missing.add(message)
            logger.warning("console: no %s translation for %r", self.language, message)

    def gettext(self, message: str) -> str:
        self._miss(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._miss(msgid1)
        return msgid1 if n == 1 else msgid2

    def pgettext(self, context: str, message: str) -> str:
        self._miss(message)
        return message

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        self._miss(msgid1)
        return msgid1 if n == 1 else msgid2


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """The language's catalogue, read and compiled once (English: the ids themselves)."""
    if language not in LANGUAGES:
        raise ValueError(f"the console speaks {', '.join(LANGUAGES)}, not {language!r}")
    if language == "en":
        return Translations()  # an empty catalogue: gettext gives the English id back
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    found = Translations(compiled, domain=DOMAIN)
    found.add_fallback(Untranslated(language))
    return found


def missing(language: str) -> set[str]:
    """The messages looked up in this language since start-up that its catalogue lacks."""
    fallback = translations(language)._fallback
    return set(fallback.missing) if isinstance(fallback, Untranslated) else set()


def translate(language: str, message: str, **params: Any) -> str:
    text = translations(language).gettext(message)
    return text % params if params else text


# --- codes shown to the team: translated labels; an unknown code is shown as it is

# The codes the console shows (roles, reasons, statuses, channels ...). English shows the
# code itself, as the command-line tools and the lender's systems name it; Chinese shows
# its translation (the code is the catalogue's id). An unknown code is shown as it is.
CODES: dict[str, tuple[str, ...]] = {
    "role": (N_("agent"), N_("supervisor"), N_("admin")),
    "handoff_reason": (N_("requested"), N_("fraud"), N_("crisis"), N_("vulnerability")),
    "priority": (N_("urgent"), N_("normal")),
    "channel": (N_("socketio"), N_("rest"), N_("twilio"), N_("whatsapp"), N_("telegram"), N_("wechat")),
    "case_kind": (N_("dispute"), N_("fraud_claim"), N_("payment_claim")),
    "case_status": (N_("open"), N_("closed")),
    "case_outcome": (N_("upheld"), N_("rejected"), N_("withdrawn")),
    "loan_status": (N_("delinquent"), N_("current"), N_("paid_off"), N_("on_hold")),
    "agreement_kind": (
        N_("pay_now"),
        N_("promise_to_pay"),
        N_("instalment_plan"),
        N_("hardship_deferral"),
        N_("settlement"),
    ),
    "agreement_status": (
        N_("active"),
        N_("completed"),
        N_("broken"),
        N_("cancelled"),
        N_("amended"),
        N_("superseded"),
    ),
    "instalment_status": (N_("scheduled"), N_("paid"), N_("partially_paid"), N_("missed"), N_("cancelled")),
    "handoff_status": (N_("queued"), N_("done")),
    "vulnerability": (
        N_("crisis"),
        N_("addiction"),
        N_("mental_health"),
        N_("life_event"),
        N_("capability"),
        N_("serious_illness"),
        N_("bereavement"),
    ),
    "reason": (
        N_("unemployment"),
        N_("reduced_income"),
        N_("illness"),
        N_("bereavement"),
        N_("family_emergency"),
        N_("unexpected_expense"),
        N_("forgot"),
        N_("payment_problem"),
        N_("dispute"),
        N_("already_paid"),
        N_("fraud_not_my_loan"),
        N_("over_indebted"),
        N_("other"),
    ),
}
LANGUAGE_LABELS = {"en": N_("English"), "zh": N_("Chinese")}


class Speaker:
    """One language's words and formats, handed to the templates (`_`, `label`, `money`, `when`, `day`)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.catalogue = translations(language)

    def gettext(self, message: str, **params: Any) -> str:
        text = self.catalogue.gettext(message)
        return text % params if params else text

    def label(self, kind: str, code: object) -> str:
        """A code as the team reads it: English the code, Chinese its translation."""
        if code is None or code == "":
            return "-"
        if kind == "language":
            known = LANGUAGE_LABELS.get(str(code))
            return self.catalogue.gettext(known) if known else str(code)
        if str(code) not in CODES[kind] or self.language == "en":
            return str(code)
        return self.catalogue.gettext(str(code))

    def money(self, amount: object, currency: object) -> str:
        if amount is None or amount == "":
            return "-"
        try:
            value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
            return format_money(value, str(currency), self.language)
        except (InvalidOperation, ValueError, TypeError):
            return f"{amount} {currency}"

    def when(self, value: str | datetime | None) -> str:
        """A moment in UTC, the language's way: '6 December 2026, 19:30 UTC' / '2026年12月6日 19:30 UTC'."""
        if not value:
            return "-"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:  # the store's times are UTC
            return f"{format_datetime(moment.replace(tzinfo=timezone.utc), 'UTC', self.language)} UTC"
        return f"{format_datetime(moment, 'UTC', self.language)} UTC"

    def day(self, value: str | date | None) -> str:
        if not value:
            return "-"
        found = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(found, self.language)

    def percent(self, rate: object) -> str:
        if rate is None:
            return "-"
        return format_percent(Decimal(str(rate)).quantize(Decimal("0.001")), self.language)

    def globals(self) -> dict[str, Callable[..., str] | str]:
        return {
            "lang": self.language,
            "label": self.label,
            "money": self.money,
            "when": self.when,
            "day": self.day,
            "percent": self.percent,
        }


# --- the catalogue's sources, for the tests and for translators (`python -m bot.ops.console.i18n`)

SOURCES = (  # (pattern relative to the project, Babel extraction method)
    ("bot/ops/console/templates/**.html", "jinja2.ext:babel_extract"),
    ("bot/ops/console/**.py", "python"),
    ("bot/domain/operators.py", "python"),
    ("bot/adapters/store/operators.py", "python"),
)


def extract_messages(root: Path | None = None) -> dict[str, list[str]]:
    """Every message the console can show, with where it is: `_`/`N_`/gettext calls and
    `{% trans %}` in the templates, and the templates of InvalidOperator's messages."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    root = root or HERE.parents[2]
    keywords = {**DEFAULT_KEYWORDS, "InvalidOperator": None}
    found: dict[str, list[str]] = {}
    options = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern, method in SOURCES if "jinja2" in method}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), list(SOURCES), options, keywords=keywords
    ):
        text = message if isinstance(message, str) else message[0]
        found.setdefault(text, []).append(f"{filename}:{lineno}")
    return found


def write_template(path: Path) -> int:
    """A .pot of every message (for a new language or a translator); returns how many."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project="team console", domain=DOMAIN)
    for message, places in sorted(extract_messages().items()):
        catalog.add(message, locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places])
    with path.open("wb") as out:
        write_po(out, catalog, width=100)
    return len(catalog)


if __name__ == "__main__":  # pragma: no cover - a translator's tool
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "console.pot")
    print(f"{write_template(target)} messages -> {target}")
