"""The borrower-facing sentences the console sends (domain.yml/console.yml), in the
conversation's language: read from the domain files like Rasa's own responses, so
every sentence a borrower reads stays in domain.yml/ in English and Chinese."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN = PROJECT_ROOT / "domain.yml"


@cache
def _responses(folder: Path = DOMAIN) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found.update(data.get("responses") or {})
    return found


def response_text(name: str, language: str | None) -> str:
    """The variation for the conversation's `language` slot, else the unconditioned one."""
    variations = _responses()[name]
    for variation in variations:
        for condition in variation.get("condition") or []:
            if condition.get("name") == "language" and condition.get("value") == language:
                return str(variation["text"])
    return next(str(v["text"]) for v in variations if not v.get("condition"))
