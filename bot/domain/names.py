"""How a borrower is addressed, by language: the one place a name is formatted.

The loan store keeps the name as the lender sent it (`borrower_name`), and, when the
lender knows them, the family name and a title (import-loans columns `family_name`,
`title`). From these:

- English: the given name ("Thank you, Amelia"): the name without the family name
  when the family name is known ("Li Hua" with family name "Li" is "Hua"), else the
  first word of a name written in Latin letters; a name in Chinese characters whose
  family name is not known is used whole (its family name comes first, and may be
  two characters: 欧阳), never cut.
- Chinese: the family name with 先生 or 女士 when both the family name and a title
  are known (李女士, Li女士); otherwise the full name (李华, Grace Li). Never a
  family name on its own, never a family name taken for a given name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Titles the importer accepts, and how each is said in Chinese (None: no polite
# form that does not assume a gender, so the full name is used).
TITLES: dict[str, str | None] = {"mr": "先生", "ms": "女士", "mrs": "女士", "miss": "女士", "mx": None}

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _is_han(text: str) -> bool:
    return _HAN.search(text) is not None


@dataclass(frozen=True)
class PersonName:
    full: str
    family: str | None = None
    title: str | None = None  # one of TITLES, or None when the lender did not say

    def given(self) -> str | None:
        """The given name, when it can be told apart from the family name."""
        full = " ".join(self.full.split())
        family = " ".join((self.family or "").split())
        if not full:
            return None
        if _is_han(full):
            rest = full[len(family) :].strip() if family and full.startswith(family) else ""
            return rest or None
        words = full.split(" ")
        if family:
            others = [w for w in words if w.casefold() != family.casefold()]
            return others[0] if others and len(others) < len(words) else None
        return words[0]


def address_as(name: PersonName, language: str | None) -> str:
    """The name to greet the borrower by, in `language` ("en", "zh", "zh-CN", ...)."""
    full = " ".join(name.full.split())
    if (language or "").lower().startswith("zh"):
        polite = TITLES.get((name.title or "").lower())
        family = " ".join((name.family or "").split())
        if polite and family:
            return family + polite
        return full
    return name.given() or full
