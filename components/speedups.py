"""Two hot spots of Rasa 3.6, fixed without changing what Rasa does.

Found with py-spy on the Rasa process under `python -m bot bench` (README,
"Benchmark", has the figures before and after):

1. Every action-server response is validated with `jsonschema.validate`, which
   checks the schema itself against its metaschema and builds a new validator
   each time: 32 ms per call here, about half of Rasa's CPU time. The schema
   never changes, so it is checked once and the validator kept (0.6 ms); the
   same best-matching error with the same message is raised for a bad response.
2. Every event read back from the tracker store or the action server looks its
   class up by walking all Event subclasses (`Event.resolve_by_type`); a found
   class is remembered by its type name (an unknown name still takes Rasa's
   own path, so its errors and defaults are unchanged).

Installed by `components/__init__.py`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

_rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type] = {}


@lru_cache(maxsize=1)
def _response_validator():
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self, result) -> bool:
    error: ValidationError | None = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def _resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
    found = _event_classes.get(type_name)
    if found is None:
        found = _rasa_resolve_by_type(type_name, default)
        if found is not None and found is not default:
            _event_classes[type_name] = found
    return found


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_resolve_by_type)
