"""The domain as one dict, read without Rasa (the action server runs on rasa-sdk alone).

`domain.yml` is a directory with one file per topic (`domain.yml/session.yml`,
`domain.yml/verification.yml`, ...). Rasa merges them itself (`Domain.load`
accepts a directory); this merges them the same way for the action server and
the tests: intents, entities and actions are concatenated, slots, forms and
responses are joined, anything else (version, session_config) must agree. A
name defined in two files is an error here, as it is a warning for Rasa.
A single domain file is read as it is.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DOMAIN_PATH = Path(__file__).resolve().parents[1] / "domain.yml"

LIST_KEYS = ("intents", "entities", "actions", "e2e_actions")
MAPPING_KEYS = ("slots", "forms", "responses")


def _name(item) -> str:
    return item if isinstance(item, str) else next(iter(item))  # `- name` or `- name: {properties}`


def domain_files(path: Path | str = DOMAIN_PATH) -> list[Path]:
    """The YAML files that make up the domain, in a stable (sorted) order."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))
    return [path]


def load_domain(path: Path | str = DOMAIN_PATH) -> dict:
    """Every domain file under `path` merged into one dict, as `yaml.safe_load` of a single file would give."""
    merged: dict = {}
    seen: dict[tuple[str, str], Path] = {}
    for file in domain_files(path):
        part = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for key, value in part.items():
            if key in LIST_KEYS or key in MAPPING_KEYS:
                names = [_name(item) for item in value] if key in LIST_KEYS else list(value)
                for name in names:
                    if (key, name) in seen:
                        raise ValueError(f"{key} {name!r} is in both {seen[key, name]} and {file}")
                    seen[key, name] = file
                if key in LIST_KEYS:
                    merged.setdefault(key, []).extend(value)
                else:
                    merged.setdefault(key, {}).update(value)
            elif key in merged and merged[key] != value:
                raise ValueError(f"{key} in {file} differs from another domain file")
            else:
                merged[key] = value
    return merged
